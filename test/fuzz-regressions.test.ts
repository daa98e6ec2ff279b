/**
 * Inputs the fuzzer found (npm run fuzz), as plain regression tests. Each was a crash: an error
 * other than our ByokError escaped, or a malformed input was accepted. The raw inputs also stay
 * in test/fuzz/corpus/<target>/crash-* and are replayed by the fuzz smoke.
 */
import { createCipheriv } from 'node:crypto';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { parseSm2Ciphertext, sm2PrivateKeyFromScalar, sm2Unwrap } from '../src/algorithms/sm2/index.js';
import { wrapMaterial } from '../src/client/wrap.js';
import { parseCiphertextBlob } from '../src/engine/ciphertext-blob.js';
import { ByokError, ERROR_CODES } from '../src/errors.js';
import { TokenSealer } from '../src/token/import-token.js';

function rejects(fn: () => unknown, code: keyof typeof ERROR_CODES): ByokError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ByokError);
  expect((caught as ByokError).code).toBe(code);
  return caught as ByokError;
}

describe('fuzz finding: SM2 DER with a malformed GeneralizedTime inside', () => {
  // SEQUENCE { GeneralizedTime "zz" }: asn1js throws "Wrong input string for conversion"
  // instead of returning offset -1, and parseSm2Der let that TypeError-like Error escape.
  const der = Uint8Array.of(0x30, 0x04, 0x18, 0x02, 0x7a, 0x7a);

  it('asn1js itself throws on it (the precondition of the bug)', () => {
    expect(() => asn1js.fromBER(der)).toThrow();
  });

  it('parseSm2Ciphertext and sm2Unwrap fail with the one uniform error', () => {
    const e = rejects(() => parseSm2Ciphertext(der, 'der'), 'DECRYPT_MATERIAL_FAILED');
    expect(e.message).toBe(ERROR_CODES.DECRYPT_MATERIAL_FAILED.message);
    const key = sm2PrivateKeyFromScalar(new Uint8Array(32).fill(7));
    rejects(() => sm2Unwrap(key, der, 32), 'DECRYPT_MATERIAL_FAILED');
  });
});

describe('fuzz finding: import token claims are checked after the tag', () => {
  const key = new Uint8Array(32).fill(0x42);
  const sealer = new TokenSealer([{ id: 'k', key }]);
  /** A version-1 token over any plaintext, as only a sealing-key holder can make one. */
  function sealV1(plaintext: Buffer): string {
    const header = Buffer.from([1, 1, 0x6b]);
    const c = createCipheriv('aes-256-gcm', key, Buffer.alloc(12, 1));
    c.setAAD(header);
    const body = Buffer.concat([c.update(Buffer.concat([plaintext, Buffer.alloc(150, 3)])), c.final()]);
    return Buffer.concat([header, Buffer.alloc(12, 1), body, c.getAuthTag()]).toString('base64');
  }
  const withMeta = (json: string) => {
    const meta = Buffer.from(json);
    return sealV1(Buffer.concat([Buffer.from([meta.length >> 8, meta.length & 0xff]), meta]));
  };
  const good = { tenant: 't', keyId: 'k', algorithm: 'SM2_ENCRYPT', keySpec: 'SM2', materialSpec: 'AES_256', issuedAt: 1, expiresAt: 2 };

  it('a well-formed v1 token still opens', () => {
    expect(sealer.open(withMeta(JSON.stringify(good))).claims.tenant).toBe('t');
  });

  it.each([
    ['null claims', 'null'],
    ['an array', '[]'],
    ['a missing tenant', JSON.stringify({ ...good, tenant: undefined })],
    ['a numeric keyId', JSON.stringify({ ...good, keyId: 5 })],
    ['a string expiresAt', JSON.stringify({ ...good, expiresAt: '2' })],
  ])('%s is IMPORT_TOKEN_INVALID, not an accepted token', (_name, json) => {
    rejects(() => sealer.open(withMeta(json)), 'IMPORT_TOKEN_INVALID');
  });
});

describe('fuzz finding: ciphertext blob key IDs are read byte for byte', () => {
  it('a key ID byte with the top bit set is CIPHERTEXT_INVALID (ascii decoding used to fold 0xb0 to "0")', () => {
    const blob = Buffer.concat([Buffer.from([1]), Buffer.from('0123abcd-0000-0000-0000-00000000abcd', 'latin1'), Buffer.alloc(44, 9)]);
    expect(parseCiphertextBlob(blob).keyId).toBe('0123abcd-0000-0000-0000-00000000abcd');
    blob[1] = 0xb0; // '0' | 0x80
    rejects(() => parseCiphertextBlob(blob), 'CIPHERTEXT_INVALID');
  });
});

describe('fuzz finding: the client refuses a broken PEM public key with its own error', () => {
  it('OpenSSL decoder errors do not escape wrapMaterial', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp\n-----END PUBLIC KEY-----\n';
    rejects(() => wrapMaterial({ publicKey: pem, algorithm: 'RSAES_OAEP_SHA_256', material: new Uint8Array(32) }), 'INVALID_PARAMETER');
  });
});

describe('fuzz finding: an imported private key with a malformed GeneralizedTime inside', () => {
  // The PKCS#8 validator called asn1js.fromBER without a guard: the same asn1js throw as the SM2
  // DER finding escaped as a plain Error (an HTTP 500 for a customer's bad key).
  it('is INVALID_PRIVATE_KEY', async () => {
    const { validatePrivateKey } = await import('../src/algorithms/private-keys/pkcs8.js');
    rejects(() => validatePrivateKey(Uint8Array.of(0x30, 0x04, 0x18, 0x02, 0x7a, 0x7a), 'RSA_2048'), 'INVALID_PRIVATE_KEY');
    rejects(() => validatePrivateKey(Uint8Array.of(0x18, 0x02, 0x7a, 0x7a), 'ECC_NIST_P256'), 'INVALID_PRIVATE_KEY');
  });
});
