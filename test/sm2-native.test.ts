/**
 * The SM2 addon (native-bindings/sm2) against the TypeScript engine: on random keys, messages
 * and ciphertexts, valid and corrupted, both give the same bytes or the same one failure; the
 * addon loads in worker threads (one instance each) and the pure backend's workers unwrap with
 * it; a released key decrypts nothing.
 */
import { existsSync } from 'node:fs';
import { createDecipheriv, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  destroySm2PrivateKey, encodeSm2CiphertextDer, generateSm2KeyPairNative, encodeSm2CiphertextRaw, sm2Decrypt, sm2Engine, sm2PrivateKeyFromScalar,
  sm2UnwrapMasked, SM2P256V1, type Sm2DecryptOptions, type Sm2PrivateKey,
} from '../src/algorithms/sm2/index.js';
import { createPureBackend } from '../src/backends/pure/pure-backend.js';
import { toHex } from '../src/bytes.js';
import { ByokError, ERROR_CODES } from '../src/errors.js';
import { opensslPkeyutlEncrypt, opensslWithInput } from './helpers/openssl-cli.js';
import { sm2AddonUnavailable } from './helpers/sm2-engines.js';
import { be32, publicOf, refEncrypt } from './helpers/sm2-reference.js';

/**
 * One decrypt's whole observable outcome: the bytes, or the error's code and message. A masked
 * failure's `out` is meaningless (expectGood zeroizes it, withSubstitute replaces it), so only
 * its length counts.
 */
function outcome(f: () => Uint8Array | { good: number; out: Uint8Array }): string {
  try {
    const r = f();
    return r instanceof Uint8Array ? `ok ${toHex(r)}` : `masked ${r.good} ${r.good === 1 ? toHex(r.out) : `length ${r.out.length}`}`;
  } catch (e) {
    if (!(e instanceof ByokError)) return `non-ByokError ${(e as Error).name}: ${(e as Error).message}`;
    if (e.code === 'DECRYPT_MATERIAL_FAILED') expect(e.message).toBe(ERROR_CODES.DECRYPT_MATERIAL_FAILED.message);
    return `error ${e.code}: ${e.message}`;
  }
}

const N = SM2P256V1.n;
const scalar = fc.bigInt({ min: 1n, max: N - 1n }).map(be32);
// Weighted so that every outcome (success, masked failure, uniform error) comes up in a short run.
const corruption = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 4 },
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
);
type Corruption = typeof corruption extends fc.Arbitrary<infer T> ? T : never;

function corrupt(bytes: Uint8Array, c: Corruption): Uint8Array {
  const out = bytes.slice();
  if (c.kind === 'flip') out[c.at % out.length] ^= 1 << c.bit;
  if (c.kind === 'byte') out[c.at % out.length] = c.value;
  if (c.kind === 'cut') return out.subarray(0, c.at % out.length);
  if (c.kind === 'append') return new Uint8Array([...out, c.byte]);
  return out;
}

describe.skipIf(sm2AddonUnavailable())('SM2 addon vs the TypeScript engine', () => {
  it('the addon is this thread\'s engine, on node\'s own OpenSSL', () => {
    expect(sm2Engine().engine).toBe('openssl-addon');
    expect(sm2Engine().detail).toContain(`OpenSSL ${process.versions.openssl}`);
  });

  it('property: random keys, messages and corruptions of DER and raw ciphertexts give the same outcome on both engines', () => {
    const seen = new Set<string>();
    fc.assert(fc.property(scalar, fc.uint8Array({ minLength: 0, maxLength: 70 }), fc.bigInt({ min: 1n, max: N - 1n }), fc.boolean(), corruption,
      fc.oneof({ arbitrary: fc.constant(-1), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 72 }), weight: 1 }),
      (d, msg, k, der, c, expected) => {
        const ct = refEncrypt(SM2P256V1, publicOf(SM2P256V1, d), msg, k);
        const bytes = corrupt(der ? encodeSm2CiphertextDer(ct) : encodeSm2CiphertextRaw(ct), c);
        const ts = sm2PrivateKeyFromScalar(d, SM2P256V1, 'typescript');
        const native = sm2PrivateKeyFromScalar(d, SM2P256V1, 'openssl-addon');
        try {
          const both = (f: (key: Sm2PrivateKey) => Uint8Array | { good: number; out: Uint8Array }) => {
            const [a, b] = [outcome(() => f(ts)), outcome(() => f(native))];
            expect(b).toBe(a);
            seen.add(a);
          };
          both((key) => sm2Decrypt(key, bytes));
          both((key) => sm2UnwrapMasked(key, bytes, expected < 0 ? msg.length : expected)); // -1: the right length
          if (c.kind === 'none' && msg.length > 0) expect(outcome(() => sm2Decrypt(native, bytes))).toBe(`ok ${toHex(msg)}`);
        } finally {
          destroySm2PrivateKey(ts);
          destroySm2PrivateKey(native);
        }
      }), { numRuns: 60 });
    // The runs reached every kind of outcome: success, a masked failure, the uniform error.
    expect([...seen].map((s) => s.split(' ').slice(0, 2).join(' ').replace(/^ok .*/, 'ok')).filter((s, i, all) => all.indexOf(s) === i).sort())
      .toEqual(['error DECRYPT_MATERIAL_FAILED:', 'masked 0', 'masked 1', 'ok']);
  });

  it('every option of the low-level decoder gives the same outcome on both engines', () => {
    const d = new Uint8Array(randomBytes(32));
    d[0] &= 0x7f;
    const msg = new Uint8Array(randomBytes(40));
    const ct = refEncrypt(SM2P256V1, publicOf(SM2P256V1, d), msg, 0x1234567890n);
    const sha = refEncrypt(SM2P256V1, publicOf(SM2P256V1, d), msg, 0x1234567890n, 'sha256');
    const inputs = [encodeSm2CiphertextDer(ct), encodeSm2CiphertextRaw(ct), encodeSm2CiphertextRaw(ct, 'C1C2C3'), encodeSm2CiphertextDer(sha), encodeSm2CiphertextRaw(sha, 'C1C2C3')];
    const options: Sm2DecryptOptions[] = [];
    for (const hash of [undefined, 'sm3', 'sha256', 'md5'] as const) {
      for (const mode of [undefined, 'C1C3C2', 'C1C2C3', 'C2C1C3'] as const) {
        for (const encoding of [undefined, 'auto', 'raw', 'der', 'pem'] as const) options.push({ hash, mode, encoding } as Sm2DecryptOptions);
      }
    }
    const ts = sm2PrivateKeyFromScalar(d, SM2P256V1, 'typescript');
    const native = sm2PrivateKeyFromScalar(d, SM2P256V1, 'openssl-addon');
    let successes = 0;
    for (const bytes of inputs) {
      for (const o of options) {
        const a = outcome(() => sm2Decrypt(ts, bytes, o));
        expect(outcome(() => sm2Decrypt(native, bytes, o)), JSON.stringify(o)).toBe(a);
        if (a.startsWith('ok')) successes++;
      }
    }
    expect(successes).toBeGreaterThan(20);
  });

  it('key generation on the addon: OpenSSL\'s CLI reads our PKCS#8 and derives exactly our SPKI, node re-exports both byte-equal, and the pure backend\'s pair unwraps an OpenSSL CLI ciphertext', async () => {
    const pems = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const pair = generateSm2KeyPairNative()!;
      const pem = (der: Uint8Array) => Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
      const derived = opensslWithInput((f) => ['pkey', '-inform', 'DER', '-in', f, '-pubout'], pair.privateKeyPkcs8);
      expect(derived).toBe(`-----BEGIN PUBLIC KEY-----\n${pem(pair.publicKeySpki)}-----END PUBLIC KEY-----\n`);
      const key = createPrivateKey({ key: Buffer.from(pair.privateKeyPkcs8), format: 'der', type: 'pkcs8' });
      expect(toHex(key.export({ type: 'pkcs8', format: 'der' }))).toBe(toHex(pair.privateKeyPkcs8));
      expect(toHex(createPublicKey(key).export({ type: 'spki', format: 'der' }))).toBe(toHex(pair.publicKeySpki));
      pems.add(derived);
    }
    expect(pems.size).toBe(3);
    const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
    const pair = await backend.generateWrappingKeyPair('SM2');
    const material = new Uint8Array(randomBytes(32));
    const handle = await backend.unwrapMaterial({ keySpec: 'SM2', algorithm: 'SM2_ENCRYPT', materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob, ciphertext: opensslPkeyutlEncrypt(pair.publicKeySpki, material, []) });
    const probe = await backend.encrypt(handle, new Uint8Array([1, 2, 3]));
    await backend.release(handle);
    // The handle encrypts under the unwrapped material: decrypting here proves the bytes.
    const decipher = createDecipheriv('aes-256-gcm', material, probe.subarray(0, 12));
    decipher.setAuthTag(probe.subarray(probe.length - 16));
    expect([...Buffer.concat([decipher.update(probe.subarray(12, probe.length - 16)), decipher.final()])]).toEqual([1, 2, 3]);
  });

  it('a released key decrypts nothing; releasing it twice is harmless', () => {
    const d = be32(12345n);
    const key = sm2PrivateKeyFromScalar(d, SM2P256V1, 'openssl-addon');
    const msg = new Uint8Array(32).fill(1);
    const ct = encodeSm2CiphertextDer(refEncrypt(SM2P256V1, publicOf(SM2P256V1, d), msg, 99n));
    expect(sm2Decrypt(key, ct)).toEqual(msg);
    destroySm2PrivateKey(key);
    expect(outcome(() => sm2Decrypt(key, ct))).toBe(`error DECRYPT_MATERIAL_FAILED: ${ERROR_CODES.DECRYPT_MATERIAL_FAILED.message}`);
    destroySm2PrivateKey(key);
    expect(key.d).toEqual(new Uint8Array(32));
  });

  it('a key is on the engine asked for: the addon\'s handle only on the addon', () => {
    expect(sm2PrivateKeyFromScalar(be32(7n), SM2P256V1, 'openssl-addon').native).toBeDefined();
    expect(sm2PrivateKeyFromScalar(be32(7n), SM2P256V1, 'typescript').native).toBeUndefined();
    expect(sm2PrivateKeyFromScalar(be32(7n)).native).toBeDefined(); // the default: this thread's engine
  });
});

// The compiled tree (npm test runs tsc first): worker threads load plain JS.
const DIST_KEYS = fileURLToPath(new URL('../dist/src/algorithms/sm2/index.js', import.meta.url));
const distMissing = existsSync(DIST_KEYS) ? undefined : 'dist/ is not built (npx tsc -p tsconfig.json)';

describe.skipIf(sm2AddonUnavailable() ?? distMissing)('the SM2 addon in worker threads', () => {
  it('loads in two workers at once (one instance each), and each decrypts what the main thread does', async () => {
    const d = be32(0xc0ffeen);
    const msg = new Uint8Array(randomBytes(32));
    const ct = encodeSm2CiphertextDer(refEncrypt(SM2P256V1, publicOf(SM2P256V1, d), msg, 4242n));
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then((sm2) => {
        const key = sm2.sm2PrivateKeyFromScalar(workerData.d);
        const out = sm2.sm2Unwrap(key, workerData.ct, 32);
        parentPort.postMessage({ engine: sm2.sm2Engine(), native: key.native !== undefined, out });
        sm2.destroySm2PrivateKey(key);
      });`;
    const run = () => new Promise<{ engine: { engine: string }; native: boolean; out: Uint8Array }>((resolve, reject) => {
      const w = new Worker(source, { eval: true, workerData: { url: pathToFileURL(DIST_KEYS).href, d, ct } });
      w.once('message', (m) => {
        resolve(m);
        void w.terminate();
      });
      w.once('error', reject);
    });
    const replies = await Promise.all([run(), run()]);
    for (const r of replies) {
      expect(r.engine.engine).toBe('openssl-addon');
      expect(r.native).toBe(true);
      expect(new Uint8Array(r.out)).toEqual(msg);
    }
  });

  it('the pure backend\'s workers unwrap SM2 (OpenSSL CLI ciphertexts) and fail uniformly on tampered ones', async () => {
    const pooled = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)), workers: 2 });
    try {
      const pair = await pooled.generateWrappingKeyPair('SM2');
      const request = (ciphertext: Uint8Array) => ({ keySpec: 'SM2', algorithm: 'SM2_ENCRYPT', materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob, ciphertext } as const);
      for (let i = 0; i < 4; i++) {
        const material = new Uint8Array(randomBytes(32));
        const ct = opensslPkeyutlEncrypt(pair.publicKeySpki, material, []);
        const handle = await pooled.unwrapMaterial(request(ct));
        const probe = await pooled.encrypt(handle, new Uint8Array([1, 2, 3]));
        await pooled.release(handle);
        // The handle encrypts under the unwrapped material: decrypting here proves the bytes.
        const decipher = createDecipheriv('aes-256-gcm', material, probe.subarray(0, 12));
        decipher.setAuthTag(probe.subarray(probe.length - 16));
        expect([...Buffer.concat([decipher.update(probe.subarray(12, probe.length - 16)), decipher.final()])]).toEqual([1, 2, 3]);
        const bad = ct.slice();
        bad[bad.length - 1] ^= 1;
        await expect(pooled.unwrapMaterial(request(bad))).rejects.toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED', message: ERROR_CODES.DECRYPT_MATERIAL_FAILED.message });
      }
    } finally {
      await pooled.close();
    }
  });
});
