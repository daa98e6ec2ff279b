/**
 * SM2 decryption (GM/T 0003.4 §7.1): the vector file through the KAT runner, the import path's
 * restrictions, the edge cases the standard names (empty plaintext, all-zero KDF output, C1 off
 * the curve), strict GM/T 0009 DER, and bit flips everywhere giving one uniform error.
 *
 * Edge-case ciphertexts are built with a small reference encryptor (test/helpers/sm2-reference.ts:
 * noble points + node hashes). It is checked first: with each vector's published k it must reproduce the
 * vector's ciphertext byte for byte.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  curveFromHex, destroySm2PrivateKey, encodeSm2CiphertextDer, encodeSm2CiphertextRaw, generateSm2KeyPair, isOnCurve,
  parseSm2Ciphertext, parseSm2PrivateKey, sm2Decrypt, sm2PrivateKeyFromScalar, sm2PublicKeyFromSpki, sm2Unwrap, SM2P256V1,
  type Sm2CurveParams, type Sm2Hash, type Sm2PrivateKey, type Sm2Mode,
} from '../src/algorithms/sm2/index.js';
import type { KatOperations } from '../src/backends/kat-operations.js';
import { pureKatOperations } from '../src/backends/pure/kat-operations.js';
import { fromHex, toHex } from '../src/bytes.js';
import { ByokError, ERROR_CODES } from '../src/errors.js';
import { sm2VectorsRunner } from '../src/kat/sm2-vectors.js';
import { engineUnavailable, SM2_ENGINES } from './helpers/sm2-engines.js';
import { assemble, be32, big, Point, publicOf, refEncrypt, refKdf } from './helpers/sm2-reference.js';

interface Vector {
  id: string; privateKey: string; publicKey: string; ciphertext: string; message?: string; mode: Sm2Mode;
  encoding: 'raw' | 'DER'; curve: string; hash: 'SM3' | 'SHA-256'; k?: string | null; result: string;
}
const file = JSON.parse(readFileSync(new URL('../vectors/sm2/vectors.json', import.meta.url), 'utf8')) as {
  curves: Record<string, { p: string; a: string; b: string; gx: string; gy: string; n: string; h?: number }>;
  vectors: Vector[];
  derivedNegative: Vector[];
};
const CURVES: Record<string, Sm2CurveParams> = Object.fromEntries(Object.entries(file.curves).map(([n, c]) => [n, curveFromHex(n, c)]));
const TEST_CURVE = CURVES['GBT32918-test-Fp256'];
const HASH: Record<string, Sm2Hash> = { SM3: 'sm3', 'SHA-256': 'sha256' };
const ANNEX_C = file.vectors.find((v) => v.id === 'gmt0003.5-annexC/C1C3C2')!;
const ANNEX_C_DER = file.vectors.find((v) => v.id === 'gmt0003.5-annexC/DER')!;
const TEST_CURVE_KEY = fromHex(file.vectors.find((v) => v.curve === 'GBT32918-test-Fp256')!.privateKey);

/** What the temporary KatOperations of this test do not do. */
const unsupported = async (): Promise<Uint8Array> => { throw new ByokError('ALGORITHM_UNSUPPORTED', 'not in this test'); };

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The one unwrap failure: same class, code, fault and message whatever went wrong. */
function expectUniform(f: () => unknown) {
  const e = caught(f);
  expect(e).toBeInstanceOf(ByokError);
  expect((e as ByokError).code).toBe('DECRYPT_MATERIAL_FAILED');
  expect((e as ByokError).fault).toBe('client');
  expect((e as ByokError).message).toBe(ERROR_CODES.DECRYPT_MATERIAL_FAILED.message);
}

// Every suite below runs on both engines: the TypeScript one and the OpenSSL addon.
for (const engine of SM2_ENGINES) describe.skipIf(engineUnavailable(engine))(`${engine} engine`, () => {
  /** Keys on this suite's engine. */
  const keyOf = (d: Uint8Array, curve: Sm2CurveParams = SM2P256V1) => sm2PrivateKeyFromScalar(d, curve, engine);

  /** The temporary KatOperations of this test: our decoder on this engine, with the vector's own scalar. */
  const katOps: KatOperations = { ...pureKatOperations({ sm2Engine: engine }), rsaesDecrypt: unsupported, aesKwpUnwrap: unsupported };

  /** Decrypt under a fresh key for scalar d on `curve`. */
  function decryptWith(curve: Sm2CurveParams, d: Uint8Array, ct: Uint8Array, options: Parameters<typeof sm2Decrypt>[2] = {}) {
    const key = keyOf(d, curve);
    try {
      return sm2Decrypt(key, ct, options);
    } finally {
      destroySm2PrivateKey(key);
    }
  }

  // ---- the vector file ------------------------------------------------------------------------

  describe('SM2 vector file through the KAT runner', () => {
    it('every vector and derived negative: 0 failed, 0 skipped', async () => {
      expect(sm2VectorsRunner.matches(file)).toBe(true);
      const cases = await sm2VectorsRunner.run(file, katOps);
      const count = (s: string) => cases.filter((c) => c.status === s).length;
      console.log(`vectors/sm2/vectors.json: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
      for (const c of cases.filter((x) => x.status !== 'passed')) console.log(`  ${c.id}: ${c.status} (${c.reason})`);
      expect(file.vectors.filter((v) => v.result === 'valid')).toHaveLength(31);
      expect(file.derivedNegative.filter((v) => v.result === 'invalid')).toHaveLength(14);
      expect(cases).toHaveLength(file.vectors.length + file.derivedNegative.length);
      expect(count('failed')).toBe(0);
      expect(count('skipped')).toBe(0);
      expect(count('passed')).toBe(45);
    });

    it('the runner can fail: a decoder that accepts everything, or returns the wrong plaintext', async () => {
      const accepting: KatOperations = { ...katOps, sm2Decrypt: async () => new Uint8Array([1, 2, 3]) };
      const cases = await sm2VectorsRunner.run(file, accepting);
      expect(cases.filter((c) => c.status === 'passed')).toHaveLength(0);
      expect(cases.filter((c) => c.status === 'failed')).toHaveLength(45);
      const rejecting: KatOperations = { ...katOps, sm2Decrypt: async () => { throw new ByokError('DECRYPT_MATERIAL_FAILED'); } };
      const r = await sm2VectorsRunner.run(file, rejecting);
      expect(r.filter((c) => c.status === 'passed')).toHaveLength(14); // only the invalid ones
    });

    it('an unknown result fails; an unknown curve, hash, mode or encoding is skipped with its reason, never passed', async () => {
      const v = file.vectors[0];
      const odd = {
        curves: file.curves,
        vectors: [
          { ...v, id: 'unknown-result', result: 'maybe' },
          { ...v, id: 'unknown-curve', curve: 'secp256k1' },
          { ...v, id: 'unknown-hash', hash: 'SHA-512' },
          { ...v, id: 'unknown-mode', mode: 'C2C1C3' },
          { ...v, id: 'unknown-encoding', encoding: 'PEM' },
          { ...v, id: 'valid-without-message', message: undefined },
        ],
      };
      const cases = await sm2VectorsRunner.run(odd, katOps);
      const byId = Object.fromEntries(cases.map((c) => [c.id, c]));
      expect(byId['unknown-result']).toMatchObject({ status: 'failed', reason: "unknown test result 'maybe'" });
      expect(byId['unknown-curve']).toMatchObject({ status: 'skipped', reason: expect.stringContaining('curve secp256k1') });
      expect(byId['unknown-hash']).toMatchObject({ status: 'skipped', reason: expect.stringContaining('hash SHA-512') });
      expect(byId['unknown-mode']).toMatchObject({ status: 'skipped', reason: expect.stringContaining('mode C2C1C3') });
      expect(byId['unknown-encoding']).toMatchObject({ status: 'skipped', reason: expect.stringContaining('encoding PEM') });
      expect(byId['valid-without-message'].status).toBe('failed');
      // An operation the backend declares it cannot do is a skip with the backend's reason.
      const none = await sm2VectorsRunner.run({ curves: file.curves, vectors: [v] }, { ...katOps, sm2Decrypt: unsupported });
      expect(none[0]).toMatchObject({ status: 'skipped', reason: 'not in this test' });
    });

    it('the reference encryptor reproduces every fixed-k vector byte for byte (raw and DER)', () => {
      const withK = file.vectors.filter((v) => v.k);
      expect(withK).toHaveLength(18); // the other 13 (OpenSSL evp_pkey, emmansun, RustCrypto) publish no k
      for (const v of withK) {
        const curve = CURVES[v.curve];
        expect(toHex(publicOf(curve, fromHex(v.privateKey)))).toBe(v.publicKey);
        const ct = refEncrypt(curve, fromHex(v.publicKey), fromHex(v.message!), BigInt('0x' + v.k), HASH[v.hash]);
        const bytes = v.encoding === 'DER' ? encodeSm2CiphertextDer(ct) : encodeSm2CiphertextRaw(ct, v.mode);
        expect(toHex(bytes), v.id).toBe(v.ciphertext);
      }
    });
  });

  // ---- the import path ------------------------------------------------------------------------

  describe('sm2Unwrap: sm2p256v1, SM3, C1C3C2, DER or raw', () => {
    let key: Sm2PrivateKey; // made in beforeAll: a skipped engine's suite is collected, never run
    beforeAll(() => {
      key = keyOf(fromHex(ANNEX_C.privateKey));
    });
    const msg = fromHex(ANNEX_C.message!);

    it('unwraps the standard vectors in raw C1C3C2 and DER, one cached key for many calls', () => {
      for (let i = 0; i < 3; i++) {
        for (const v of file.vectors.filter((x) => x.curve === 'sm2p256v1' && x.mode === 'C1C3C2')) {
          const k = v.privateKey === ANNEX_C.privateKey ? key : keyOf(fromHex(v.privateKey));
          expect(toHex(sm2Unwrap(k, fromHex(v.ciphertext), v.message!.length / 2)), v.id).toBe(v.message);
        }
      }
    });

    it('a wrong expected length is the same failure as a bad ciphertext', () => {
      expectUniform(() => sm2Unwrap(key, fromHex(ANNEX_C.ciphertext), msg.length + 1));
      expectUniform(() => sm2Unwrap(key, fromHex(ANNEX_C_DER.ciphertext), msg.length - 1));
      expectUniform(() => sm2Unwrap(key, fromHex(ANNEX_C.ciphertext), 32));
    });

    it('refuses C1C2C3, which only the low-level decoder reads when asked', () => {
      const v = file.vectors.find((x) => x.id === 'gmt0003.5-annexC/C1C2C3')!;
      expect(toHex(sm2Decrypt(key, fromHex(v.ciphertext), { mode: 'C1C2C3' }))).toBe(v.message);
      expectUniform(() => sm2Unwrap(key, fromHex(v.ciphertext), msg.length));
    });

    it('refuses the SHA-256 variant: the published vectors, and the same construction on sm2p256v1', () => {
      for (const v of file.vectors.filter((x) => x.hash === 'SHA-256')) {
        const k = keyOf(fromHex(v.privateKey), TEST_CURVE);
        expect(toHex(sm2Decrypt(k, fromHex(v.ciphertext), { hash: 'sha256', mode: v.mode, curve: TEST_CURVE })), v.id).toBe(v.message);
        expectUniform(() => sm2Unwrap(k, fromHex(v.ciphertext), v.message!.length / 2));
      }
      // On the import curve too, so the refusal is the hash's, not the curve's.
      const ct = encodeSm2CiphertextDer(refEncrypt(SM2P256V1, fromHex(ANNEX_C.publicKey), msg, 0x1234567n, 'sha256'));
      expect(sm2Decrypt(key, ct, { hash: 'sha256' })).toEqual(msg);
      expectUniform(() => sm2Unwrap(key, ct, msg.length));
      expectUniform(() => sm2Decrypt(key, ct));
    });

    it('refuses a key on another curve', () => {
      const v = file.vectors.find((x) => x.id === 'gbt32918.4-testcurve/DER')!;
      const k = keyOf(fromHex(v.privateKey), TEST_CURVE);
      expect(toHex(sm2Decrypt(k, fromHex(v.ciphertext)))).toBe(v.message);
      expectUniform(() => sm2Unwrap(k, fromHex(v.ciphertext), v.message!.length / 2));
    });

    it('a curve option that differs from the key is a caller error, not a decrypt failure', () => {
      const e = caught(() => sm2Decrypt(key, fromHex(ANNEX_C.ciphertext), { curve: TEST_CURVE }));
      expect(e).toMatchObject({ code: 'INVALID_PARAMETER' });
      // Same parameters, another object: fine (vector files give curves as hex).
      expect(sm2Decrypt(key, fromHex(ANNEX_C.ciphertext), { curve: CURVES.sm2p256v1 })).toEqual(msg);
    });
  });

  // ---- GM/T 0003.4 §7.1 edge cases --------------------------------------------------------------

  describe.each([
    ['sm2p256v1 (OpenSSL ECDH engine)', SM2P256V1, fromHex(ANNEX_C.privateKey)],
    ['GB/T 32918 test curve (noble engine)', TEST_CURVE, TEST_CURVE_KEY],
  ] as const)('edge cases on %s', (_name, curve, d) => {
    const pub = publicOf(curve, d);

    it('empty plaintext (klen = 0) is refused; the same k with one byte decrypts', () => {
      const k = 0xc0ffeen;
      const one = refEncrypt(curve, pub, new Uint8Array([0x42]), k);
      expect(one.c2[0]).not.toBe(0x42); // precondition: t ≠ 0 for this k
      expect(decryptWith(curve, d, encodeSm2CiphertextRaw(one))).toEqual(new Uint8Array([0x42]));
      const empty = refEncrypt(curve, pub, new Uint8Array(0), k);
      expect(encodeSm2CiphertextRaw(empty)).toHaveLength(97);
      expectUniform(() => decryptWith(curve, d, encodeSm2CiphertextRaw(empty)));
      expectUniform(() => decryptWith(curve, d, encodeSm2CiphertextDer(empty)));
      expectUniform(() => decryptWith(curve, d, encodeSm2CiphertextRaw(empty, 'C1C2C3'), { mode: 'C1C2C3' }));
    });

    it('an all-zero KDF output is refused (B4); with one more byte of the same t it decrypts', () => {
      // Walk k = 1, 2, … (point additions) until t = KDF(x2 ‖ y2, 1) is 00: about 1 in 256.
      const P = Point(curve);
      const Q = P.fromBytes(pub);
      let c1 = P.ZERO;
      let s = P.ZERO;
      let found: { c1: Uint8Array; x: bigint; y: bigint } | undefined;
      for (let k = 1; k < 20_000 && !found; k++) {
        c1 = c1.add(P.BASE);
        s = s.add(Q);
        const a = s.toAffine();
        if (refKdf('sm3', Buffer.concat([be32(a.x), be32(a.y)]), 1)[0] === 0) found = { c1: c1.toBytes(false), x: a.x, y: a.y };
      }
      expect(found).toBeDefined();
      const { c1: c1Bytes, x, y } = found!;
      const zeroT = assemble(c1Bytes, x, y, new Uint8Array([0x5a]));
      expect(zeroT.c2).toEqual(new Uint8Array([0x5a])); // t = 00, so C2 = M and C3 = Hash(x2 ‖ M ‖ y2) is right
      expectUniform(() => decryptWith(curve, d, encodeSm2CiphertextRaw(zeroT)));
      expectUniform(() => decryptWith(curve, d, encodeSm2CiphertextDer(zeroT)));
      if (curve === SM2P256V1) expectUniform(() => sm2Unwrap(keyOf(d), encodeSm2CiphertextDer(zeroT), 1));
      const two = assemble(c1Bytes, x, y, new Uint8Array([0x5a, 0xa5]));
      expect(two.c2[1]).not.toBe(0xa5); // precondition: t = 00 ‖ nonzero
      expect(decryptWith(curve, d, encodeSm2CiphertextRaw(two))).toEqual(new Uint8Array([0x5a, 0xa5]));
    });

    it('C1 off the curve, at (0, 0), or in a non-04 form is refused', () => {
      const good = refEncrypt(curve, pub, new Uint8Array(16).fill(7), 0xabcdefn);
      expect(decryptWith(curve, d, encodeSm2CiphertextRaw(good))).toEqual(new Uint8Array(16).fill(7));
      const variants: Uint8Array[] = [];
      const offCurve = good.c1.slice();
      offCurve[64] ^= 1;
      variants.push(offCurve);
      const origin = new Uint8Array(65);
      origin[0] = 4;
      variants.push(origin); // (0, 0): b ≠ 0, so not a point
      const zeroOne = new Uint8Array(65);
      zeroOne[0] = 4;
      zeroOne[64] = 1;
      variants.push(zeroOne);
      for (const prefix of [0x00, 0x02, 0x03, 0x06, 0x07]) {
        const c1 = good.c1.slice();
        c1[0] = prefix;
        variants.push(c1);
      }
      for (const c1 of variants) {
        const ct = { ...good, c1 };
        expectUniform(() => decryptWith(curve, d, encodeSm2CiphertextRaw(ct)));
        if (c1[0] === 4) expectUniform(() => decryptWith(curve, d, encodeSm2CiphertextDer(ct)));
      }
      // The SEC1 identity encoding, a single 00, followed by C3 and C2.
      expectUniform(() => decryptWith(curve, d, new Uint8Array([0, ...good.c3, ...good.c2])));
    });

    it('a C1 coordinate given as x + p (not reduced) is refused; reduced, it decrypts (short DER INTEGER)', () => {
      // A point with x < 2^256 − p, so that x + p still fits 32 bytes.
      const P = Point(curve);
      let c1: ReturnType<typeof P.fromBytes> | undefined;
      for (let x = 1n; !c1; x++) {
        try {
          c1 = P.fromBytes(new Uint8Array([2, ...be32(x)]));
        } catch { /* not on the curve */ }
      }
      const { x, y } = c1.toAffine();
      expect(x + curve.p < 1n << 256n).toBe(true);
      const s = c1.multiply(big(d)).toAffine();
      const msg = new Uint8Array(32).fill(0x33);
      const ct = assemble(c1.toBytes(false), s.x, s.y, msg);
      const der = encodeSm2CiphertextDer(ct);
      expect(der[3]).toBeLessThan(32); // x is a short INTEGER: left-padding is exercised
      expect(decryptWith(curve, d, der)).toEqual(msg);
      expect(decryptWith(curve, d, encodeSm2CiphertextRaw(ct))).toEqual(msg);
      const unreduced = new Uint8Array([4, ...be32(x + curve.p), ...be32(y)]);
      expectUniform(() => decryptWith(curve, d, encodeSm2CiphertextRaw({ ...ct, c1: unreduced })));
      expectUniform(() => decryptWith(curve, d, encodeSm2CiphertextDer({ ...ct, c1: unreduced })));
      expect(isOnCurve(curve, x, y)).toBe(true);
      expect(isOnCurve(curve, x + curve.p, y)).toBe(false);
      expect(isOnCurve(curve, x, y + curve.p)).toBe(false);
    });
  });

  // ---- bit flips and framing: one error for everything ------------------------------------------

  describe('uniform failure', () => {
    let key: Sm2PrivateKey; // made in beforeAll: a skipped engine's suite is collected, never run
    beforeAll(() => {
      key = keyOf(fromHex(ANNEX_C.privateKey));
    });
    const n = fromHex(ANNEX_C.message!).length;

    it.each([
      ['raw C1C3C2', ANNEX_C.ciphertext],
      ['GM/T 0009 DER', ANNEX_C_DER.ciphertext],
    ])('%s: a bit flipped in every byte (C1.x, C1.y, C3, C2, framing), truncation, extension', (_name, hex) => {
      const good = fromHex(hex);
      expect(sm2Unwrap(key, good, n)).toEqual(fromHex(ANNEX_C.message!));
      for (let i = 0; i < good.length; i++) {
        const bad = good.slice();
        bad[i] ^= 1 << (i % 8);
        expectUniform(() => sm2Unwrap(key, bad, n));
      }
      for (const cut of [1, 20, 32, 33, 65, 96, good.length - 1]) expectUniform(() => sm2Unwrap(key, good.subarray(0, cut), n));
      expectUniform(() => sm2Unwrap(key, new Uint8Array([...good, 0]), n));
      expectUniform(() => sm2Unwrap(key, new Uint8Array(0), n));
    });

    it('strict DER: each BER-only or malformed form of a valid ciphertext is refused', () => {
      const good = fromHex(ANNEX_C_DER.ciphertext);
      const ct = parseSm2Ciphertext(good);
      expect(encodeSm2CiphertextDer(ct)).toEqual(good); // our encoder gives the published bytes
      const [x, y] = [ct.c1.subarray(1, 33), ct.c1.subarray(33)];
      expect(x[0] & 0x80).toBe(0); // published x: 32 bytes, no 00
      expect(y[0] & 0x80).not.toBe(0); // published y: 00 ‖ 32 bytes
      const tlv = (tag: number, body: Uint8Array, longForm = false) => {
        const len = body.length;
        const head = len < 128 && !longForm ? [len] : len < 256 ? [0x81, len] : [0x82, len >> 8, len & 0xff];
        return new Uint8Array([tag, ...head, ...body]);
      };
      const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
      const xInt = tlv(2, x);
      const yInt = tlv(2, new Uint8Array([0, ...y]));
      const c3 = tlv(4, ct.c3);
      const c2 = tlv(4, ct.c2);
      const seq = (...items: Uint8Array[]) => tlv(0x30, cat(...items));
      expect(seq(xInt, yInt, c3, c2)).toEqual(good); // the builder is right

      const variants: Record<string, Uint8Array> = {
        'trailing byte': cat(good, new Uint8Array([0])),
        'outer length in long form': tlv(0x30, cat(xInt, yInt, c3, c2), true),
        'C2 length in long form': seq(xInt, yInt, c3, tlv(4, ct.c2, true)),
        'C3 length in long form': seq(xInt, yInt, tlv(4, ct.c3, true), c2),
        'x length in long form': seq(tlv(2, x, true), yInt, c3, c2),
        'indefinite outer length': cat(new Uint8Array([0x30, 0x80]), xInt, yInt, c3, c2, new Uint8Array([0, 0])),
        'constructed C2': seq(xInt, yInt, c3, tlv(0x24, c2)),
        'x with a needless leading 00': seq(tlv(2, new Uint8Array([0, ...x])), yInt, c3, c2),
        'y negative (leading 00 dropped)': seq(xInt, tlv(2, y), c3, c2),
        'x longer than 32 bytes': seq(tlv(2, new Uint8Array([1, ...x])), yInt, c3, c2),
        'x empty': seq(tlv(2, new Uint8Array(0)), yInt, c3, c2),
        'C3 of 31 bytes': seq(xInt, yInt, tlv(4, ct.c3.subarray(1)), c2),
        'C3 of 33 bytes': seq(xInt, yInt, tlv(4, new Uint8Array([...ct.c3, 0])), c2),
        'ENUMERATED for x': seq(tlv(0x0a, x), yInt, c3, c2),
        'three elements': seq(xInt, yInt, c3),
        'five elements': seq(xInt, yInt, c3, c2, c2),
        'C3 and C2 swapped': seq(xInt, yInt, c2, c3),
        'SET instead of SEQUENCE': tlv(0x31, cat(xInt, yInt, c3, c2)),
      };
      for (const [name, bytes] of Object.entries(variants)) {
        const e = caught(() => sm2Unwrap(key, bytes, n));
        expect(e, name).toBeInstanceOf(ByokError);
        expect((e as ByokError).code, name).toBe('DECRYPT_MATERIAL_FAILED');
        expect((e as ByokError).message, name).toBe(ERROR_CODES.DECRYPT_MATERIAL_FAILED.message);
      }
    });

    it('a C1C2C3 ciphertext read as C1C3C2, and the reverse, fail', () => {
      const c1c2c3 = fromHex(file.vectors.find((v) => v.id === 'gmt0003.5-annexC/C1C2C3')!.ciphertext);
      expectUniform(() => sm2Decrypt(key, c1c2c3, { mode: 'C1C3C2' }));
      expectUniform(() => sm2Decrypt(key, fromHex(ANNEX_C.ciphertext), { mode: 'C1C2C3' }));
      expectUniform(() => sm2Decrypt(key, fromHex(ANNEX_C_DER.ciphertext), { encoding: 'raw' }));
      expectUniform(() => sm2Decrypt(key, fromHex(ANNEX_C.ciphertext), { encoding: 'der' }));
    });

    it('an SM3 ciphertext decoded with SHA-256 fails', () => {
      expectUniform(() => sm2Decrypt(key, fromHex(ANNEX_C.ciphertext), { hash: 'sha256' }));
    });
  });

  // ---- keys ------------------------------------------------------------------------------------

  describe('SM2 keys', () => {
    it('generateSm2KeyPair: the SPKI point is [d]G of the PKCS#8 scalar; the parsed key decrypts', async () => {
      const { publicKeySpki, privateKeyPkcs8 } = await generateSm2KeyPair();
      const key = parseSm2PrivateKey(privateKeyPkcs8, engine);
      const point = sm2PublicKeyFromSpki(publicKeySpki);
      expect(point).toEqual(publicOf(SM2P256V1, key.d));
      const msg = new Uint8Array(32).fill(9);
      expect(sm2Unwrap(key, encodeSm2CiphertextDer(refEncrypt(SM2P256V1, point, msg, 0x77n)), 32)).toEqual(msg);
      destroySm2PrivateKey(key);
      expect(key.d).toEqual(new Uint8Array(32));
      expect(toHex(key.ecdh!.getPrivateKey())).toBe('01'); // OpenSSL's copy of d is gone
      expectUniform(() => sm2Unwrap(key, encodeSm2CiphertextDer(refEncrypt(SM2P256V1, point, msg, 0x77n)), 32));
    });

    it('parseSm2PrivateKey refuses another curve, a mismatched embedded public key, and junk', async () => {
      const { privateKeyPkcs8 } = await generateSm2KeyPair();
      const { generateKeyPairSync } = await import('node:crypto');
      const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'der' });
      const tampered = privateKeyPkcs8.slice();
      tampered[tampered.length - 1] ^= 1; // last byte of the embedded public key's y
      for (const bad of [new Uint8Array(p256), tampered, privateKeyPkcs8.subarray(1), new Uint8Array([...privateKeyPkcs8, 0])]) {
        expect(caught(() => parseSm2PrivateKey(bad, engine))).toMatchObject({ code: 'INTERNAL_ERROR' });
      }
    });

    it('sm2PrivateKeyFromScalar: d in [1, n − 1]; curves with a cofactor are not supported', () => {
      const n = SM2P256V1.n;
      expect(caught(() => keyOf(new Uint8Array(32)))).toMatchObject({ code: 'INVALID_PARAMETER' });
      expect(caught(() => keyOf(be32(n)))).toMatchObject({ code: 'INVALID_PARAMETER' });
      expect(caught(() => keyOf(new Uint8Array(33).fill(1)))).toMatchObject({ code: 'INVALID_PARAMETER' });
      expect(keyOf(be32(n - 1n)).ecdh).toBeDefined();
      expect(keyOf(new Uint8Array([5])).d).toEqual(be32(5n));
      expect(keyOf(be32(5n), CURVES.sm2p256v1).ecdh).toBeDefined(); // by value, not identity
      expect(keyOf(be32(5n), TEST_CURVE).ecdh).toBeUndefined();
      expect(caught(() => keyOf(be32(5n), { ...TEST_CURVE, h: 4n }))).toMatchObject({ code: 'ALGORITHM_UNSUPPORTED' });
    // This suite's engine is the one that decrypts: the addon's handle exactly on its suite.
    expect(keyOf(be32(5n)).native !== undefined).toBe(engine === 'openssl-addon');
    expect(keyOf(be32(5n), TEST_CURVE).native !== undefined).toBe(engine === 'openssl-addon');
    });

    it('sm2PublicKeyFromSpki refuses a P-256 key', async () => {
      const { generateKeyPairSync } = await import('node:crypto');
      const spki = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
      expect(caught(() => sm2PublicKeyFromSpki(new Uint8Array(spki)))).toMatchObject({ code: 'INVALID_PARAMETER' });
    });
  });
});
