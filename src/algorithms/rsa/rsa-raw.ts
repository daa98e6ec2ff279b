import { constants, privateDecrypt, type KeyObject } from 'node:crypto';
import { asBuffer } from '../../bytes.js';
import { decryptMaterialFailed } from '../../errors.js';

/** Modulus length in bytes (public). */
export function modulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (!bits) throw decryptMaterialFailed();
  return Math.ceil(bits / 8);
}

/**
 * RSADP (RFC 8017 §5.1.2) through OpenSSL with RSA_NO_PADDING: c^d mod n as k bytes.
 * The ciphertext must be exactly k bytes (§7.1.2 / §7.2.2 step 1); c >= n is refused by
 * OpenSSL. Both are public checks and fail with the one uniform error.
 */
export function rsaPrivateRaw(key: KeyObject, ciphertext: Uint8Array): Uint8Array {
  const k = modulusBytes(key);
  if (ciphertext.length !== k) throw decryptMaterialFailed();
  let out: Buffer;
  try {
    out = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, asBuffer(ciphertext));
  } catch {
    throw decryptMaterialFailed();
  }
  if (out.length === k) return new Uint8Array(out.buffer, out.byteOffset, out.length);
  // OpenSSL returns k bytes for NO_PADDING; left-pad defensively if it ever does not.
  const padded = new Uint8Array(k);
  padded.set(out, k - out.length);
  out.fill(0);
  return padded;
}
