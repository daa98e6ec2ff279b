/**
 * Property tests of the import token (issue → verify, and any single-bit flip rejected) and of
 * RFC 5649 (wrap → unwrap for every length 1..4096 under each KEK size, and any single-bit flip
 * rejected with the one uniform error).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aesKwpUnwrap, aesKwpWrap } from '../../src/algorithms/aes-kwp.js';
import { ByokError, ERROR_CODES } from '../../src/errors.js';
import { TokenSealer, type ImportTokenClaims } from '../../src/token/import-token.js';

function expectCode(fn: () => unknown, code: keyof typeof ERROR_CODES): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'tampered input was accepted').toBeInstanceOf(ByokError);
  expect((caught as ByokError).code).toBe(code);
  expect((caught as ByokError).message).toBe(ERROR_CODES[code].message);
}

const claimsArb = fc.record({
  tenant: fc.string({ minLength: 1, maxLength: 64 }),
  keyId: fc.stringMatching(/^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/),
  algorithm: fc.constantFrom('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5', 'SM2_ENCRYPT'),
  keySpec: fc.constantFrom('RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'),
  materialSpec: fc.constantFrom('AES_256', 'SM4_128'),
  issuedAt: fc.integer({ min: 0, max: 2 ** 40 }),
  expiresAt: fc.integer({ min: 0, max: 2 ** 40 }),
}) as fc.Arbitrary<ImportTokenClaims>;
// 121..2400 bytes: an SM2 PKCS#8 up to an RSA-4096 one, all inside the API's 6144 characters.
const blobArb = fc.uint8Array({ minLength: 121, maxLength: 2400 });

describe('import token', () => {
  const sealer = new TokenSealer([{ id: 'tk-now', key: new Uint8Array(randomBytes(32)) }, { id: 'tk-old', key: new Uint8Array(randomBytes(32)) }]);

  it('issue → verify gives the claims and the key blob back', () => {
    fc.assert(fc.property(claimsArb, blobArb, (claims, blob) => {
      const token = sealer.seal(claims, blob);
      expect(token).toMatch(/^[0-9a-zA-Z+/=]{200,6144}$/);
      const opened = sealer.open(token);
      expect(opened.claims).toMatchObject(claims);
      expect(Buffer.from(opened.privateKeyBlob)).toEqual(Buffer.from(blob));
    }), { numRuns: 100 });
  });

  it('any single-bit flip of the token bytes is IMPORT_TOKEN_INVALID', () => {
    fc.assert(fc.property(claimsArb, blobArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (claims, blob, at, bit) => {
      const bytes = Buffer.from(sealer.seal(claims, blob), 'base64');
      bytes[at % bytes.length] ^= 1 << bit;
      expectCode(() => sealer.open(bytes.toString('base64')), 'IMPORT_TOKEN_INVALID');
    }), { numRuns: 200 });
  });

  it('any single-bit flip of the token text is IMPORT_TOKEN_INVALID', () => {
    fc.assert(fc.property(claimsArb, blobArb, fc.nat(), fc.integer({ min: 0, max: 6 }), (claims, blob, at, bit) => {
      const text = Buffer.from(sealer.seal(claims, blob), 'latin1');
      text[at % text.length] ^= 1 << bit;
      expectCode(() => sealer.open(text.toString('latin1')), 'IMPORT_TOKEN_INVALID');
    }), { numRuns: 200 });
  });

  it('a token from another sealing key is IMPORT_TOKEN_INVALID', () => {
    const other = new TokenSealer([{ id: 'tk-now', key: new Uint8Array(randomBytes(32)) }]);
    fc.assert(fc.property(claimsArb, blobArb, (claims, blob) => {
      expectCode(() => sealer.open(other.seal(claims, blob)), 'IMPORT_TOKEN_INVALID');
    }), { numRuns: 20 });
  });
});

describe('RFC 5649 AES key wrap with padding', () => {
  const keks = [16, 24, 32].map((n) => new Uint8Array(randomBytes(n)));

  // KWP costs 6·⌈n/8⌉ AES blocks each way, so all 4,096 lengths under all three KEKs is ~40 M
  // blocks: every length under AES-256, every 7th (and the first 64) under AES-128 and -192.
  it('wrap → unwrap for every length 1..4096 (AES-256; every 7th under AES-128 and -192)', () => {
    const source = new Uint8Array(randomBytes(4096));
    for (const kek of keks) {
      for (let n = 1; n <= 4096; n += kek.length === 32 || n < 64 ? 1 : 7) {
        const m = source.subarray(0, n);
        const wrapped = aesKwpWrap(kek, m);
        const out = aesKwpUnwrap(kek, wrapped);
        // Plain checks, not expect(): 12,288 round trips.
        if (wrapped.length !== 8 + Math.ceil(n / 8) * 8) throw new Error(`KWP wrapped length ${wrapped.length} for ${n} bytes`);
        if (out.length !== n || Buffer.compare(out, m) !== 0) throw new Error(`KWP round trip failed at length ${n}, KEK ${kek.length}`);
      }
    }
  });

  it('any single-bit flip of a wrapped blob is DECRYPT_MATERIAL_FAILED', () => {
    fc.assert(fc.property(fc.constantFrom(...keks), fc.uint8Array({ minLength: 1, maxLength: 4096 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (kek, m, at, bit) => {
      const wrapped = aesKwpWrap(kek, m);
      wrapped[at % wrapped.length] ^= 1 << bit;
      expectCode(() => aesKwpUnwrap(kek, wrapped), 'DECRYPT_MATERIAL_FAILED');
    }), { numRuns: 500 });
  });

  it('the wrong KEK is DECRYPT_MATERIAL_FAILED', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), (m) => {
      expectCode(() => aesKwpUnwrap(keks[2], aesKwpWrap(new Uint8Array(randomBytes(32)), m)), 'DECRYPT_MATERIAL_FAILED');
    }), { numRuns: 100 });
  });
});
