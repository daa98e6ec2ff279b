/**
 * SM2 ciphertexts from outside: the framing parser (GM/T 0009 DER, raw C1C3C2 / C1C2C3) and the
 * whole sm2Unwrap with a fixed key. Byte 0 picks the entry point; the rest is the ciphertext.
 * A DER parse that succeeds must re-encode to the same bytes (strict DER).
 */
import { encodeSm2CiphertextDer, parseSm2Ciphertext, sm2Unwrap } from '../../../src/algorithms/sm2/index.js';
import { check, onlyByokError } from '../expect.js';
import { sm2Key } from '../fixtures.js';

const key = sm2Key();
export const maxLen = 1024;
export const dictionary = [Uint8Array.of(0x30, 0x81), Uint8Array.of(0x30, 0x82), Uint8Array.of(0x02, 0x21, 0x00), Uint8Array.of(0x02, 0x20), Uint8Array.of(0x04, 0x20), Uint8Array.of(0x04, 0x10), Uint8Array.of(0x24, 0x80), Uint8Array.of(0x00, 0x00), Uint8Array.of(0x0a, 0x01)];

export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const ct = new Uint8Array(data.subarray(1));
  switch (data[0] % 5) {
    case 0: {
      const parsed = onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => parseSm2Ciphertext(ct, 'der'));
      if (parsed) {
        check(Buffer.from(encodeSm2CiphertextDer(parsed)).equals(Buffer.from(ct)), 'accepted DER that is not canonical');
        check(parsed.c1.length === 65 && parsed.c3.length === 32, 'DER parse gave wrong field sizes');
      }
      return;
    }
    case 1:
      onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => parseSm2Ciphertext(ct, 'raw', 'C1C3C2'));
      return;
    case 2:
      onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => parseSm2Ciphertext(ct, 'raw', 'C1C2C3'));
      return;
    default: {
      const expected = data[0] % 5 === 3 ? 32 : 16;
      const out = onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => sm2Unwrap(key, ct, expected));
      if (out) check(out.length === expected, 'sm2Unwrap returned material of the wrong length');
    }
  }
}
