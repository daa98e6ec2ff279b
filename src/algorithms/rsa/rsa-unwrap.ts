/**
 * RSA unwrap of key material (the import path) and the KAT path for arbitrary OAEP parameters.
 * Every failure is a fresh `decryptMaterialFailed()`; library errors are never passed on.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { RsaPadding } from '../specs.js';
import { asBuffer, zeroize } from '../../bytes.js';
import { decryptMaterialFailed } from '../../errors.js';
import { expectGood, type MaskedDecode } from './ct.js';
import { oaepDecode, oaepDecodeMasked } from './oaep-decode.js';
import { pkcs1v15Decode, pkcs1v15DecodeMasked } from './pkcs1v15-decode.js';
import { modulusBytes, rsaPrivateRaw } from './rsa-raw.js';

/** RSAES decrypt parameters for the known-answer path (any hash pair, any label). */
export type RsaesKatParams =
  | { readonly padding: 'oaep'; readonly hash: string; readonly mgf1Hash: string; readonly label: Uint8Array }
  | { readonly padding: 'pkcs1v15' };

/** The EME decoder of the import path for this padding, its failure as a mask. */
export function emeDecodeMasked(padding: RsaPadding, em: Uint8Array, k: number, expectedLength: number): MaskedDecode {
  return padding.kind === 'pkcs1v15'
    ? pkcs1v15DecodeMasked(em, k, expectedLength)
    : oaepDecodeMasked(em, k, { hash: padding.hash, mgf1Hash: padding.hash }, expectedLength);
}

/**
 * Raw RSA (`RSA_NO_PADDING`) and our branch-free decoders for both paddings. OAEP used to go
 * through node's privateDecrypt, but "valid padding, wrong material length" then returned
 * normally and failed after, while bad padding threw inside OpenSSL: a measured ~3 µs timing
 * class. Here the length check is folded into the padding mask (RFC 8017 §7.1.2 step 3, one
 * throw after the whole block is scanned) at the same throughput (raw RSA dominates).
 * PKCS#1 v1.5 needs raw RSA anyway: Node 20 refuses RSA_PKCS1_PADDING for private decryption.
 */
export function rsaUnwrap(key: KeyObject, padding: RsaPadding, ciphertext: Uint8Array, expectedLength: number): Uint8Array {
  return expectGood(rsaUnwrapMasked(key, padding, ciphertext, expectedLength));
}

/**
 * rsaUnwrap with the padding failure as a mask, not a throw (for a temporary key's implicit
 * rejection). Public failures (the ciphertext length, c >= n) still throw.
 */
export function rsaUnwrapMasked(key: KeyObject, padding: RsaPadding, ciphertext: Uint8Array, expectedLength: number): MaskedDecode {
  const k = modulusBytes(key);
  if (ciphertext.length !== k) throw decryptMaterialFailed();
  const em = rsaPrivateRaw(key, ciphertext);
  try {
    return emeDecodeMasked(padding, em, k, expectedLength);
  } finally {
    zeroize(em);
  }
}

/** Decrypt with any OAEP hash pair and label or PKCS#1 v1.5, via raw RSA and our decoders. */
export function rsaesDecryptForKat(privateKeyPkcs8: Uint8Array, params: RsaesKatParams, ciphertext: Uint8Array): Uint8Array {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: asBuffer(privateKeyPkcs8), format: 'der', type: 'pkcs8' });
  } catch {
    throw decryptMaterialFailed();
  }
  const k = modulusBytes(key);
  const em = rsaPrivateRaw(key, ciphertext);
  try {
    return params.padding === 'oaep'
      ? oaepDecode(em, k, { hash: params.hash, mgf1Hash: params.mgf1Hash, label: params.label })
      : pkcs1v15Decode(em, k);
  } finally {
    zeroize(em);
  }
}
