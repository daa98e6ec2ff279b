/**
 * The PKCS#11 backend's entry point. pkcs11js is loaded only when a backend is created, so the
 * pure core never needs it.
 */
import { ByokError } from '../src/errors.js';
import { findPkcs11Module } from './module.js';
import { Pkcs11Backend, type Pkcs11BackendOptions } from './pkcs11-backend.js';

export { findPkcs11Module } from './module.js';
export { Pkcs11Backend } from './pkcs11-backend.js';
export type { Pkcs11BackendOptions, UnwrapPath } from './pkcs11-backend.js';

export async function createPkcs11Backend(options: Pkcs11BackendOptions): Promise<Pkcs11Backend> {
  return new Pkcs11Backend(options);
}

/**
 * Options from the environment: BYOK_PKCS11_MODULE (default: SoftHSM2 in the usual Debian
 * paths), BYOK_PKCS11_TOKEN_LABEL or BYOK_PKCS11_SLOT, BYOK_PKCS11_PIN (never a command-line
 * argument: ps shows those), BYOK_PKCS11_SESSIONS, BYOK_PKCS11_HOST_DECODE=1 for the opt-in
 * TypeScript OAEP decode, BYOK_PKCS11_KWP_MECHANISM (e.g. 0x210B).
 */
export function pkcs11OptionsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Pkcs11BackendOptions> = {}): Pkcs11BackendOptions {
  const modulePath = overrides.modulePath ?? env.BYOK_PKCS11_MODULE ?? findPkcs11Module();
  if (!modulePath) throw new ByokError('BACKEND_UNAVAILABLE', 'No PKCS#11 module: set BYOK_PKCS11_MODULE or install SoftHSM2.');
  const pin = overrides.pin ?? env.BYOK_PKCS11_PIN;
  if (!pin) throw new ByokError('BACKEND_UNAVAILABLE', 'Set the token PIN in BYOK_PKCS11_PIN.');
  return {
    modulePath,
    pin,
    ...(env.BYOK_PKCS11_TOKEN_LABEL ? { tokenLabel: env.BYOK_PKCS11_TOKEN_LABEL } : {}),
    ...(env.BYOK_PKCS11_SLOT ? { slotIndex: Number(env.BYOK_PKCS11_SLOT) } : {}),
    ...(env.BYOK_PKCS11_SESSIONS ? { sessions: Number(env.BYOK_PKCS11_SESSIONS) } : {}),
    ...(env.BYOK_PKCS11_HOST_DECODE === '1' ? { allowHostOaepDecode: true } : {}),
    ...(env.BYOK_PKCS11_KWP_MECHANISM ? { kwpMechanism: Number(env.BYOK_PKCS11_KWP_MECHANISM) } : {}),
    ...overrides,
  };
}
