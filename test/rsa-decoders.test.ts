/**
 * The branch-free EME decoders on encodings we build by hand (RFC 8017 §7.1.1 / §7.2.1), so each
 * rule is pinned independently of OpenSSL: accepted exactly when well formed, and every
 * rejection is the one uniform error.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oaepDecode, oaepDecodeExpectLength } from '../src/algorithms/rsa/oaep-decode.js';
import { pkcs1v15Decode, pkcs1v15DecodeExpectLength } from '../src/algorithms/rsa/pkcs1v15-decode.js';
import { mgf1 } from '../src/algorithms/rsa/mgf1.js';
import { ByokError, ERROR_CODES } from '../src/errors.js';

const K = 256;

function pkcs1Encode(message: Uint8Array, psLength = K - 3 - message.length): Uint8Array {
  const em = new Uint8Array(K);
  em[1] = 2;
  const ps = randomBytes(psLength).map((b) => b || 1);
  em.set(ps, 2);
  em[2 + psLength] = 0;
  em.set(message, 3 + psLength);
  return em;
}

function oaepEncode(message: Uint8Array, hash = 'sha256', label = new Uint8Array(0), separator = 1): Uint8Array {
  const hLen = createHash(hash).digest().length;
  const db = new Uint8Array(K - hLen - 1);
  db.set(createHash(hash).update(label).digest());
  db[db.length - message.length - 1] = separator;
  db.set(message, db.length - message.length);
  const seed = randomBytes(hLen);
  const dbMask = mgf1(hash, seed, db.length);
  const maskedDb = db.map((b, i) => b ^ dbMask[i]);
  const seedMask = mgf1(hash, maskedDb, hLen);
  const em = new Uint8Array(K);
  em.set(seed.map((b, i) => b ^ seedMask[i]), 1);
  em.set(maskedDb, 1 + hLen);
  return em;
}

function expectUniform(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ByokError);
    expect((e as ByokError).code).toBe('DECRYPT_MATERIAL_FAILED');
    expect((e as ByokError).message).toBe(ERROR_CODES.DECRYPT_MATERIAL_FAILED.message);
    return;
  }
  throw new Error('expected a rejection');
}

describe('EME-PKCS1-v1_5 decoder', () => {
  it('decodes every well-formed message length (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: K - 11 }), (m) => {
      expect(Buffer.from(pkcs1v15Decode(pkcs1Encode(m), K))).toEqual(Buffer.from(m));
    }), { numRuns: 200 });
  });

  it('needs at least 8 padding bytes', () => {
    const longest = new Uint8Array(K - 11).fill(7); // PS of exactly 8 bytes
    expect(Buffer.from(pkcs1v15DecodeExpectLength(pkcs1Encode(longest, 8), K, K - 11))).toEqual(Buffer.from(longest));
    const short = new Uint8Array(K);
    short.set([0, 2, 1, 1, 1, 1, 1, 1, 1, 0]); // PS of 7 bytes
    expectUniform(() => pkcs1v15Decode(short, K));
  });

  it('rejects a wrong first byte, a wrong block type, no separator, and a wrong material length', () => {
    const m = randomBytes(32);
    const good = pkcs1Encode(m);
    expect(Buffer.from(pkcs1v15DecodeExpectLength(good, K, 32))).toEqual(m);
    expectUniform(() => pkcs1v15DecodeExpectLength(good, K, 16));
    for (const [i, v] of [[0, 1], [1, 1], [1, 0]] as const) {
      const bad = good.slice();
      bad[i] = v;
      expectUniform(() => pkcs1v15DecodeExpectLength(bad, K, 32));
    }
    const noSeparator = good.slice();
    noSeparator[K - 33] = 9;
    expectUniform(() => pkcs1v15Decode(noSeparator.map((b, i) => (i >= 2 && b === 0 ? 5 : b)), K));
    expectUniform(() => pkcs1v15Decode(good.subarray(1), K));
  });
});

describe('EME-OAEP decoder', () => {
  it('decodes every well-formed message length (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: K - 2 * 32 - 2 }), (m) => {
      const p = { hash: 'sha256', mgf1Hash: 'sha256' };
      expect(Buffer.from(oaepDecode(oaepEncode(m), K, p))).toEqual(Buffer.from(m));
    }), { numRuns: 200 });
  });

  it('rejects Y != 0, a wrong label, a bad separator, the wrong hash and a wrong material length', () => {
    const m = randomBytes(32);
    const p = { hash: 'sha256', mgf1Hash: 'sha256' };
    const good = oaepEncode(m);
    expect(Buffer.from(oaepDecodeExpectLength(good, K, p, 32))).toEqual(m);
    expectUniform(() => oaepDecodeExpectLength(good, K, p, 16));
    const y = good.slice();
    y[0] = 1;
    expectUniform(() => oaepDecode(y, K, p));
    expectUniform(() => oaepDecode(oaepEncode(m, 'sha256', new Uint8Array([1])), K, p));
    expectUniform(() => oaepDecode(oaepEncode(m, 'sha256', new Uint8Array(0), 2), K, p));
    expectUniform(() => oaepDecode(good, K, { hash: 'sha1', mgf1Hash: 'sha1' }));
    expectUniform(() => oaepDecode(good.subarray(1), K, p));
  });
});
