/**
 * Authenticated encryption with imported material, in the one layout both backends share:
 * iv(12) ‖ ciphertext ‖ tag(16). AES_256 → AES-256-GCM; SM4_128 → SM4-GCM (RFC 8998).
 * A customer reproduces it with node:crypto (or any GCM library) from its own material.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { MaterialSpec } from '../../algorithms/specs.js';
import { sm4GcmDecrypt, sm4GcmEncrypt } from '../../algorithms/sm4-gcm.js';
import { asBuffer, concatBytes } from '../../bytes.js';
import { ByokError } from '../../errors.js';
import { GCM_IV_LENGTH, GCM_TAG_LENGTH } from '../backend-base.js';
const EMPTY = new Uint8Array(0);

export function gcmEncrypt(spec: MaterialSpec, key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  const iv = new Uint8Array(randomBytes(GCM_IV_LENGTH));
  if (spec === 'SM4_128') {
    const { ciphertext, tag } = sm4GcmEncrypt(key, iv, plaintext, aad);
    return concatBytes(iv, ciphertext, tag);
  }
  const cipher = createCipheriv('aes-256-gcm', asBuffer(key), iv, { authTagLength: GCM_TAG_LENGTH });
  cipher.setAAD(asBuffer(aad));
  const body = Buffer.concat([cipher.update(asBuffer(plaintext)), cipher.final()]);
  return concatBytes(iv, body, cipher.getAuthTag());
}

/** Any failure (short input, wrong tag, wrong key) → CIPHERTEXT_INVALID. */
export function gcmDecrypt(spec: MaterialSpec, key: Uint8Array, blob: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  if (blob.length < GCM_IV_LENGTH + GCM_TAG_LENGTH) throw new ByokError('CIPHERTEXT_INVALID');
  const iv = blob.subarray(0, GCM_IV_LENGTH);
  const body = blob.subarray(GCM_IV_LENGTH, blob.length - GCM_TAG_LENGTH);
  const tag = blob.subarray(blob.length - GCM_TAG_LENGTH);
  if (spec === 'SM4_128') return sm4GcmDecrypt(key, iv, body, tag, aad);
  try {
    const decipher = createDecipheriv('aes-256-gcm', asBuffer(key), asBuffer(iv), { authTagLength: GCM_TAG_LENGTH });
    decipher.setAAD(asBuffer(aad));
    decipher.setAuthTag(asBuffer(tag));
    return new Uint8Array(Buffer.concat([decipher.update(asBuffer(body)), decipher.final()]));
  } catch {
    throw new ByokError('CIPHERTEXT_INVALID');
  }
}
