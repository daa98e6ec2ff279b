/** How a PKCS#11 backend (or its KAT operations) is pointed at a device. */
import type { Clock } from '../../clock.js';
import { Pkcs11Capabilities } from './capabilities.js';
import { fromPkcs11Error } from './ckr.js';
import { Pkcs11Device } from './device.js';
import type { UnwrapTemplatePolicy } from './unwrap-template-check.js';

/** How a PKCS#11 backend finds its device: module, token, PIN, sessions and the opt-in host decode. */
export interface Pkcs11BackendOptions {
  /** Path of the PKCS#11 module (.so). */
  readonly modulePath: string;
  /** C_Initialize library parameters, e.g. NSS softoken's `configdir='sql:DIR' certPrefix='' keyPrefix='' secmod='secmod.db'`. */
  readonly libraryParameters?: string;
  /** Select the token by label (preferred) or by index in the slot list. */
  readonly tokenLabel?: string;
  readonly slotIndex?: number;
  /** User PIN: from configuration or the environment, never from argv. */
  readonly pin: string;
  /** Sessions in the pool (default 4). */
  readonly sessions?: number;
  /** How long an operation waits for a free session before DEVICE_UNAVAILABLE, ms (default 30 s). */
  readonly sessionWaitMs?: number;
  /**
   * Opt-in: where the device lacks an OAEP hash (SoftHSM2: SHA-256) decrypt raw with
   * CKM_RSA_X_509 and decode in TypeScript. The material then passes through host memory.
   */
  readonly allowHostOaepDecode?: boolean;
  /**
   * Mechanism code of AES key wrap with padding, tried instead of the start-up choice (0x210B,
   * PKCS#11 3.0 KWP, then 0x210A, whichever runs the RFC 5649 vector).
   */
  readonly kwpMechanism?: number;
  /**
   * `required` (default): refuse to start unless the device enforces the wrapping keys'
   * CKA_UNWRAP_TEMPLATE (checked on a throw-away key; needs the pkcs11-attrs addon).
   * `best-effort`: start anyway (without the template where it is not enforced), report the state.
   */
  readonly unwrapTemplatePolicy?: UnwrapTemplatePolicy;
  /**
   * Wrapping keys live this long after generation before the sweeper may destroy them (default:
   * the token lifetime + 2 h — an hour in a pre-generation pool, an hour of slack).
   */
  readonly wrappingKeyLifetimeSeconds?: number;
  /**
   * Keep a wrapping key after its import succeeded, so its token can import the same material
   * again until it expires (default false: destroyed at once, so the captured ciphertext cannot
   * be unwrapped again by a PIN holder).
   */
  readonly keepWrappingKeysAfterImport?: boolean;
  /** The engine's import token lifetime (default 24 h), from which the wrapping-key lifetime is derived. */
  readonly tokenLifetimeSeconds?: number;
  /** How often the sweeper runs, ms (default 60 s; 0: only when asked and before key generation). */
  readonly sweepIntervalMs?: number;
  /**
   * The wrapping keys' namespace on the token (1–32 of A–Z a–z 0–9 . _ -): a sweeper destroys
   * only expired wrapping keys of its own namespace. Deployments that share a token take one each;
   * the instances of one deployment share theirs, so any of them sweeps what another made.
   * Default: none (labels `byok-wrapping-key/<expiry>`, as before namespaces).
   */
  readonly namespace?: string;
  readonly clock?: Clock;
}

/** Open the device the options name, and learn what it can do. */
export async function openPkcs11Device(options: Pkcs11BackendOptions): Promise<{ device: Pkcs11Device; capabilities: Pkcs11Capabilities }> {
  const device = await Pkcs11Device.open({
    modulePath: options.modulePath, pin: options.pin, sessions: options.sessions ?? 4,
    ...(options.libraryParameters !== undefined ? { libraryParameters: options.libraryParameters } : {}),
    ...(options.sessionWaitMs !== undefined ? { sessionWaitMs: options.sessionWaitMs } : {}),
    ...(options.tokenLabel !== undefined ? { tokenLabel: options.tokenLabel } : {}),
    ...(options.slotIndex !== undefined ? { slotIndex: options.slotIndex } : {}),
  });
  try {
    return { device, capabilities: new Pkcs11Capabilities(device, options.kwpMechanism, options.allowHostOaepDecode ?? false) };
  } catch (e) {
    device.close();
    throw fromPkcs11Error(device.lib, e, 'Probing the PKCS#11 device');
  }
}
