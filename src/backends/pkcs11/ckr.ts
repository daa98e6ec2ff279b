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

/** A pkcs11js Pkcs11Error: `code` is the numeric CK_RV, `method` the Cryptoki function. */
interface Pkcs11ErrorLike {
  readonly code: number;
  readonly method?: string;
}

function isPkcs11Error(lib: Pkcs11Lib, e: unknown): e is Pkcs11ErrorLike {
  return e instanceof lib.Pkcs11Error && typeof (e as { code?: unknown }).code === 'number';
}

/**
 * `e` as a ByokError: a ByokError passes unchanged, a Pkcs11Error becomes BACKEND_UNAVAILABLE
 * naming what failed and its CKR (a device refusal is the server's fault, never the
 * customer's), anything else passes unchanged.
 */
export function fromPkcs11Error(lib: Pkcs11Lib, e: unknown, what: string): unknown {
  if (isByokError(e) || !isPkcs11Error(lib, e)) return e;
  const call = e.method ? `${e.method}: ` : '';
  return new ByokError('BACKEND_UNAVAILABLE', `${what} failed (${call}${describeCkr(lib, e.code)}).`, { cause: e });
}
