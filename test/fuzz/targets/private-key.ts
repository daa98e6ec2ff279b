/**
 * Imported private keys: the PKCS#8 validation an import runs after the RFC 5649 unwrap
 * (src/algorithms/private-keys/pkcs8.ts). Byte 0 picks the declared key spec; the rest is the
 * DER. Contract: INVALID_PRIVATE_KEY for anything wrong, and an accepted key's public key is a
 * SubjectPublicKeyInfo that OpenSSL reads.
 */
import { createPublicKey } from 'node:crypto';
import { validatePrivateKey } from '../../../src/algorithms/private-keys/pkcs8.js';
import type { MaterialSpec } from '../../../src/algorithms/specs.js';
import { check, onlyByokError } from '../expect.js';

export const maxLen = 4096;
export const dictionary = [
  Buffer.from('06092a864886f70d010101', 'hex'), Buffer.from('06072a8648ce3d0201', 'hex'), Buffer.from('06082a8648ce3d030107', 'hex'),
  Buffer.from('06082a811ccf5501822d', 'hex'), Buffer.from('06052b81040022', 'hex'), Buffer.from('0500', 'hex'),
  Uint8Array.of(0x02, 0x01, 0x00), Uint8Array.of(0x02, 0x01, 0x01), Uint8Array.of(0x04, 0x20), Uint8Array.of(0xa0), Uint8Array.of(0xa1),
  Uint8Array.of(0x02, 0x03, 0x01, 0x00, 0x01),
];
export const SPECS: readonly MaterialSpec[] = ['RSA_2048', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_SECG_P256K1', 'SM2', 'ECC_NIST_P521'];

export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const spec = SPECS[data[0] % SPECS.length];
  const spki = onlyByokError(['INVALID_PRIVATE_KEY'], () => validatePrivateKey(new Uint8Array(data.subarray(1)), spec));
  if (spki) {
    let readable = true;
    try {
      createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    } catch {
      readable = false;
    }
    check(readable, `accepted a ${spec} key whose public key OpenSSL cannot read`);
  }
}
