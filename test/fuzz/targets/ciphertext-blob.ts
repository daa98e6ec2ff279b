/** The engine's ciphertext blob header (Decrypt's CiphertextBlob from outside). */
import { buildCiphertextBlob, KEY_ID_PATTERN, parseCiphertextBlob } from '../../../src/engine/ciphertext-blob.js';
import { check, onlyByokError } from '../expect.js';

export const maxLen = 512;

export function fuzz(data: Buffer): void {
  const parsed = onlyByokError(['CIPHERTEXT_INVALID'], () => parseCiphertextBlob(new Uint8Array(data)));
  if (parsed) {
    check(KEY_ID_PATTERN.test(parsed.keyId), 'accepted a blob with a malformed key ID');
    check(Buffer.from(buildCiphertextBlob(parsed.keyId, parsed.backendCiphertext)).equals(data), 'blob does not rebuild to itself');
  }
}
