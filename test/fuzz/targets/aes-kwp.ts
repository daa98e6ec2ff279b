/**
 * RFC 5649 unwrap of outside bytes under each fixed KEK size (byte 0 picks it). Whatever
 * unwraps must wrap back to the same blob (KWP is deterministic).
 */
import { aesKwpUnwrap, aesKwpWrap } from '../../../src/algorithms/aes-kwp.js';
import { check, onlyByokError } from '../expect.js';
import { KWP_KEKS } from '../fixtures.js';

export const maxLen = 4200;

export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const kek = KWP_KEKS[data[0] % KWP_KEKS.length];
  const wrapped = new Uint8Array(data.subarray(1));
  const out = onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => aesKwpUnwrap(kek, wrapped));
  if (out) {
    check(out.length > 0 && out.length <= wrapped.length - 8, 'KWP unwrap gave an impossible length');
    check(Buffer.from(aesKwpWrap(kek, out)).equals(Buffer.from(wrapped)), 'KWP unwrap accepted a blob that does not re-wrap to itself');
  }
}
