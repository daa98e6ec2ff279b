/**
 * The engine's ciphertext blob names its key, because Tencent's Decrypt takes no KeyId:
 *   0x01 ‖ key ID (36 ASCII bytes) ‖ iv(12) ‖ ciphertext ‖ tag(16)
 * where the tail is AES-256-GCM (AES_256) or SM4-GCM (SM4_128) under the key's material with
 * the caller's AAD (empty by default). A customer builds or opens one locally with node:crypto
 * and its own material.
 */
import { concatBytes } from '../bytes.js';
import { ByokError } from '../errors.js';

const VERSION = 1;
const KEY_ID_LENGTH = 36;
export const KEY_ID_PATTERN = /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/;

export function buildCiphertextBlob(keyId: string, backendCiphertext: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(VERSION), Buffer.from(keyId, 'ascii'), backendCiphertext);
}

export function parseCiphertextBlob(blob: Uint8Array): { keyId: string; backendCiphertext: Uint8Array } {
  if (blob.length < 1 + KEY_ID_LENGTH + 28 || blob[0] !== VERSION) throw new ByokError('CIPHERTEXT_INVALID');
  // latin1, not ascii: node's ascii decoder drops the top bit, so 0xb0 would read as '0' and
  // many byte strings would name one key (a malleable header).
  const keyId = Buffer.from(blob.subarray(1, 1 + KEY_ID_LENGTH)).toString('latin1');
  if (!KEY_ID_PATTERN.test(keyId)) throw new ByokError('CIPHERTEXT_INVALID');
  return { keyId, backendCiphertext: blob.subarray(1 + KEY_ID_LENGTH) };
}
