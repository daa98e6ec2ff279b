/**
 * EME-PKCS1-v1_5 decoding (RFC 8017 §7.2.2 step 3), branch-free over the whole block, for the
 * Marvin / Bleichenbacher threat: 0x00 ‖ 0x02 ‖ PS (≥ 8 non-zero bytes) ‖ 0x00 ‖ M.
 *
 * No implicit rejection: OpenSSL 3.2+ returns a synthetic plaintext on bad padding so that TLS
 * can go on without an oracle. A KMS import must never import garbage material, so every
 * failure (bad padding, short PS, no separator, wrong material length) is the one uniform error,
 * decided by one mask after the whole block has been scanned. Node 20 refuses
 * RSA_PKCS1_PADDING for private decryption (CVE-2023-46809), hence raw RSA plus this decoder.
 */
import { decryptMaterialFailed } from '../../errors.js';
import { ctEq, ctGe, ctSelect, expectGood, type MaskedDecode } from './ct.js';

const MIN_PS = 8;

function decodeCore(em: Uint8Array, k: number): { good: number; msgStart: number } {
  // Public: em is k bytes and k >= 11 (RFC 8017 §7.2.2 step 1).
  if (em.length !== k || k < 11) throw decryptMaterialFailed();
  let good = ctEq(em[0], 0) & ctEq(em[1], 2);
  let looking = 1;
  let separator = 0;
  for (let i = 2; i < k; i++) {
    const isZero = ctEq(em[i], 0);
    separator = ctSelect(looking & isZero, i, separator);
    looking &= isZero ^ 1;
  }
  good &= looking ^ 1;
  // separator = 0 (none found) makes this negative, which ctGe also maps to 0.
  good &= ctGe(separator - 2, MIN_PS);
  return { good, msgStart: separator + 1 };
}

/** Decode a message of any length (the KAT runner's path). */
export function pkcs1v15Decode(em: Uint8Array, k: number): Uint8Array {
  const { good, msgStart } = decodeCore(em, k);
  if (good !== 1) throw decryptMaterialFailed();
  return em.slice(msgStart);
}

/**
 * The import path: the material length is fixed and public, folded into the same mask. The
 * failure is a mask (see MaskedDecode); pkcs1v15DecodeExpectLength is the throwing form.
 */
export function pkcs1v15DecodeMasked(em: Uint8Array, k: number, expectedLength: number): MaskedDecode {
  const { good: paddingGood, msgStart } = decodeCore(em, k);
  const good = paddingGood & ctEq(k - msgStart, expectedLength) & ctGe(k, expectedLength + 11);
  const out = new Uint8Array(expectedLength);
  out.set(em.subarray(Math.max(0, k - expectedLength)), expectedLength - Math.min(expectedLength, k));
  return { good, out };
}

export function pkcs1v15DecodeExpectLength(em: Uint8Array, k: number, expectedLength: number): Uint8Array {
  return expectGood(pkcs1v15DecodeMasked(em, k, expectedLength));
}
