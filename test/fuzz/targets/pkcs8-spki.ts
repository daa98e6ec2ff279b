/**
 * Key parsing: the SM2 PKCS#8 parser (the token's key blob), the SM2 SPKI parser, and the
 * client's wrap, which parses the public key the service returns (base64, DER or PEM).
 * Byte 0 picks the parser.
 */
import { parseSm2PrivateKey, destroySm2PrivateKey, sm2PublicKeyFromSpki } from '../../../src/algorithms/sm2/index.js';
import { wrapMaterial, type WrappingAlgorithmName } from '../../../src/client/wrap.js';
import { check, onlyByokError } from '../expect.js';

export const maxLen = 2048;
export const dictionary = [
  Buffer.from('06082a811ccf5501822d', 'hex'), Buffer.from('06072a8648ce3d0201', 'hex'), Uint8Array.of(0x03, 0x42, 0x00, 0x04),
  Uint8Array.of(0xa0), Uint8Array.of(0xa1), Uint8Array.of(0x02, 0x01, 0x01), Uint8Array.of(0x02, 0x01, 0x00), Uint8Array.of(0x04, 0x20),
  '-----BEGIN PUBLIC KEY-----\n', '\n-----END PUBLIC KEY-----\n',
];
const ALGORITHMS: readonly WrappingAlgorithmName[] = ['SM2_ENCRYPT', 'RSAES_OAEP_SHA_256', 'RSAES_PKCS1_V1_5'];

export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const der = new Uint8Array(data.subarray(1));
  switch (data[0] % 4) {
    case 0: {
      const key = onlyByokError(['INTERNAL_ERROR', 'INVALID_PARAMETER'], () => parseSm2PrivateKey(der));
      if (key) {
        check(key.d.length === 32 && key.ecdh !== undefined, 'parsed SM2 key without a scalar or context');
        destroySm2PrivateKey(key);
      }
      return;
    }
    case 1: {
      const point = onlyByokError(['INVALID_PARAMETER'], () => sm2PublicKeyFromSpki(der));
      if (point) check(point.length === 65 && point[0] === 4, 'SPKI gave a malformed point');
      return;
    }
    default: {
      const algorithm = ALGORITHMS[data[0] % ALGORITHMS.length];
      const publicKey = data[0] % 4 === 2 ? der : data.subarray(1).toString('latin1');
      const out = onlyByokError(['INVALID_PARAMETER'], () => wrapMaterial({ publicKey, algorithm, material: new Uint8Array(32).fill(9) }));
      if (out) check(out.length > 0, 'wrap gave an empty ciphertext');
    }
  }
}
