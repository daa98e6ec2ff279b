/**
 * PKCS#11 return values (CK_RV) by name, and the one mapping of a pkcs11js `Pkcs11Error` to a
 * ByokError: a device failure reaches a caller as `CKR_KEY_TYPE_INCONSISTENT (0x00000063)`,
 * never as a bare decimal, with the original error as `cause`. Unwrap paths do not use this:
 * they answer the uniform DECRYPT_MATERIAL_FAILED with no cause (a CKR could be an oracle).
 */
import { ByokError, isByokError } from '../../errors.js';
import type { Pkcs11Lib } from './pkcs11js.js';

/**
 * Return values of PKCS#11 v2.40 errata / v3.0 (pkcs11t.h) that pkcs11js 2.1.7 does not export;
 * every other standard CKR comes from pkcs11js's own constants.
 */
const NOT_IN_PKCS11JS: Readonly<Record<string, number>> = {
  CKR_ACTION_PROHIBITED: 0x1b,
  CKR_AEAD_DECRYPT_FAILED: 0x42,
  CKR_CURVE_NOT_SUPPORTED: 0x140,
  CKR_TOKEN_RESOURCE_EXCEEDED: 0x201,
  CKR_OPERATION_CANCEL_FAILED: 0x202,
  CKR_KEY_EXHAUSTED: 0x203,
};

/** PKCS#11 §5.1: codes from here up are the vendor's own. */
const CKR_VENDOR_DEFINED = 0x80000000;

let names: Map<number, string> | undefined;

function ckrNames(lib: Pkcs11Lib): Map<number, string> {
  if (!names) {
    const table = new Map<number, string>();
    const entries = [...Object.entries(lib), ...Object.entries(NOT_IN_PKCS11JS)];
    for (const [name, value] of entries) {
      if (name.startsWith('CKR_') && typeof value === 'number' && !table.has(value)) table.set(value, name);
    }
    names = table;
  }
  return names;
}

/** `CKR_PIN_INCORRECT (0x000000A0)`; vendor codes as `CKR_VENDOR_DEFINED+0x… (0x8…)`. */
export function describeCkr(lib: Pkcs11Lib, code: number): string {
  const hex = `0x${code.toString(16).toUpperCase().padStart(8, '0')}`;
  const name = ckrNames(lib).get(code)
    ?? (code >= CKR_VENDOR_DEFINED ? `CKR_VENDOR_DEFINED+0x${(code - CKR_VENDOR_DEFINED).toString(16).toUpperCase()}` : 'unknown CKR');
  return `${name} (${hex})`;
}

/**
 * A fault seen without a CKR from the device: e.g. a search for a private object that finds
 * nothing because the login is gone (private objects are invisible then, PKCS#11 2.40 §4.1).
 */
export class DeviceFault extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'DeviceFault';
  }
}

/**
 * The CK_RV of a pkcs11js error: `Pkcs11Error.code`, or the `CKR_NAME:decimal` message of the
 * NativeError some calls throw (C_CopyObject, C_SetAttributeValue); undefined for anything else.
 */
export function ckrOf(lib: Pkcs11Lib, e: unknown): number | undefined {
  if (e instanceof DeviceFault) return e.code;
  if (e instanceof lib.Pkcs11Error && typeof (e as { code?: unknown }).code === 'number') return (e as { code: number }).code;
  const m = e instanceof Error && !isByokError(e) ? /^CKR_\w+:(\d+)$/.exec(e.message) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * Faults of the device or of our sessions, not of the request: the session or the login is gone
 * (C_CloseAllSessions, C_Logout from elsewhere, a device reset), the token or the module went away.
 * These are worth a recovery (re-initialise, find the slot again, reopen, log in) and one retry.
 */
const FAULT_NAMES = [
  'CKR_SESSION_HANDLE_INVALID', 'CKR_SESSION_CLOSED', 'CKR_USER_NOT_LOGGED_IN', 'CKR_DEVICE_ERROR', 'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT', 'CKR_TOKEN_NOT_RECOGNIZED', 'CKR_CRYPTOKI_NOT_INITIALIZED', 'CKR_SESSION_COUNT',
] as const;

/** Whether a CKR is a device fault (FAULT_NAMES): recoverable, answered 503 when recovery fails. */
export function isDeviceFault(lib: Pkcs11Lib, code: number | undefined): boolean {
  return code !== undefined && FAULT_NAMES.some((n) => lib[n] === code);
}

/**
 * What the device may answer when the customer's PKCS#8 itself is bad (SoftHSM2: FUNCTION_FAILED
 * for a blob it cannot parse). Anything else from an unwrap that passed the key-wrap check is the
 * device refusing our request (TEMPLATE_INCOMPLETE, MECHANISM_INVALID, …): never the customer's.
 */
const BAD_KEY_NAMES = [
  'CKR_FUNCTION_FAILED', 'CKR_WRAPPED_KEY_INVALID', 'CKR_WRAPPED_KEY_LEN_RANGE', 'CKR_DATA_INVALID', 'CKR_DATA_LEN_RANGE',
  'CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_KEY_TYPE_INCONSISTENT', 'CKR_TEMPLATE_INCONSISTENT',
  'CKR_DOMAIN_PARAMS_INVALID', 'CKR_KEY_SIZE_RANGE', 'CKR_CURVE_NOT_SUPPORTED',
] as const;

/** Whether a CKR from a private-key unwrap says the key material is bad (BAD_KEY_NAMES). */
export function saysKeyIsBad(lib: Pkcs11Lib, code: number | undefined): boolean {
  return code !== undefined && BAD_KEY_NAMES.some((n) => (lib[n as keyof Pkcs11Lib] ?? NOT_IN_PKCS11JS[n]) === code);
}

/**
 * `e` as a ByokError: a ByokError passes unchanged; a PKCS#11 error becomes DEVICE_UNAVAILABLE
 * (a fault, FAULT_NAMES: 503, retry later) or DEVICE_REFUSED (the device refused the call), each
 * naming what failed and its CKR, with the original as `cause`: a device refusal is the server's
 * fault, never the customer's. Anything else passes unchanged.
 */
export function fromPkcs11Error(lib: Pkcs11Lib, e: unknown, what: string): unknown {
  const code = ckrOf(lib, e);
  if (isByokError(e) || code === undefined) return e;
  const method = (e as { method?: unknown }).method;
  const call = typeof method === 'string' && method ? `${method}: ` : '';
  return new ByokError(isDeviceFault(lib, code) ? 'DEVICE_UNAVAILABLE' : 'DEVICE_REFUSED', `${what} failed (${call}${describeCkr(lib, code)}).`, { cause: e });
}
