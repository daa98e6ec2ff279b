/**
 * RSA unwrap of key material (the import path) and the KAT path for arbitrary OAEP parameters.
 * Every failure is a fresh `decryptMaterialFailed()`; library errors are never passed on.
 */
import { constants, createPrivateKey, privateDecrypt, type KeyObject } from 'node:crypto';
import type { RsaPadding } from '../specs.js';
import type { RsaesKatParams } from '../../backends/crypto-backend.js';
import { asBuffer, zeroize } from '../../bytes.js';
import { decryptMaterialFailed } from '../../errors.js';
import { oaepDecode } from './oaep-decode.js';
import { pkcs1v15Decode, pkcs1v15DecodeExpectLength } from './pkcs1v15-decode.js';
import { modulusBytes, rsaPrivateRaw } from './rsa-raw.js';

/**
 * OAEP: node's privateDecrypt (OpenSSL's constant-time decoder, MGF1 hash = OAEP hash, empty
 * label, as the KMS uses it) — ~4,300/s on RSA-2048 here. PKCS#1 v1.5: raw RSA + our
 * branch-free decoder, because Node 20 refuses RSA_PKCS1_PADDING for private decryption.
 */
export function rsaUnwrap(key: KeyObject, padding: RsaPadding, ciphertext: Uint8Array, expectedLength: number): Uint8Array {
  const k = modulusBytes(key);
  if (ciphertext.length !== k) throw decryptMaterialFailed();
  if (padding.kind === 'pkcs1v15') {
    const em = rsaPrivateRaw(key, ciphertext);
    try {
      return pkcs1v15DecodeExpectLength(em, k, expectedLength);
    } finally {
      zeroize(em);
    }
  }
  let out: Buffer | undefined;
  try {
    out = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.hash }, asBuffer(ciphertext));
  } catch {
    out = undefined;
  }
  if (out === undefined || out.length !== expectedLength) {
    out?.fill(0);
    throw decryptMaterialFailed();
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
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
