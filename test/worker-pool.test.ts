/**
 * The pure backend with worker threads gives the same answers and the same uniform error; a
 * script that is not our worker is reported, never waited on; a crashed worker is replaced.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPureBackend, type PureBackend } from '../src/backends/pure/pure-backend.js';
import type { WrappingKeyPair } from '../src/backends/crypto-backend.js';
import { ERROR_CODES } from '../src/errors.js';
import { opensslPkeyutlEncrypt, SEED_PKEYOPTS } from './helpers/openssl-cli.js';

let pooled: PureBackend;
let rsa: WrappingKeyPair;
let sm2: WrappingKeyPair;

beforeAll(async () => {
  pooled = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)), workers: 2 });
  rsa = await pooled.generateWrappingKeyPair('RSA_2048');
  sm2 = await pooled.generateWrappingKeyPair('SM2');
});
afterAll(() => pooled.close());

describe('worker pool', () => {
  it('a temporary key comes back from a worker as a substitute when its padding is bad (RSA and SM2), and the key wrap under it fails uniformly; a good one opens its key wrap', async () => {
    const { aesKwpWrap } = await import('../src/algorithms/aes-kwp.js');
    const hmacKey = new Uint8Array(randomBytes(32));
    for (const pair of [rsa, sm2]) {
      const algorithm = pair === sm2 ? 'SM2_ENCRYPT' : 'RSAES_OAEP_SHA_256';
      const temporaryKey = new Uint8Array(randomBytes(32));
      const good = opensslPkeyutlEncrypt(pair.publicKeySpki, temporaryKey, pair === sm2 ? [] : SEED_PKEYOPTS.RSAES_OAEP_SHA_256);
      const bad = Uint8Array.from(good);
      bad[bad.length - 1] ^= 1; // RSA: another block, bad padding; SM2: C2 changed, C3 no longer matches
      const wrapped = aesKwpWrap(temporaryKey, hmacKey);
      const request = (ciphertext: Uint8Array) => ({ keySpec: pair.keySpec, algorithm, materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob, ciphertext, temporaryKey: true } as const);
      const substitute = await pooled.unwrapMaterial(request(bad));
      await expect(pooled.unwrapWithTemporaryKey(substitute, wrapped, 'HMAC_256')).rejects.toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED' });
      await pooled.release(substitute);
      const real = await pooled.unwrapMaterial(request(good));
      const handle = await pooled.unwrapWithTemporaryKey(real, wrapped, 'HMAC_256');
      await pooled.release(real);
      await pooled.release(handle);
    }
  });

  it('runs unwraps on 2 workers, many in flight, with and without a cache key', async () => {
    expect(pooled.workerCount).toBe(2);
    const materials = Array.from({ length: 24 }, () => new Uint8Array(randomBytes(32)));
    const results = await Promise.all(materials.map(async (m, i) => {
      const pair = i % 3 === 0 ? sm2 : rsa;
      const ct = opensslPkeyutlEncrypt(pair.publicKeySpki, m, i % 3 === 0 ? [] : SEED_PKEYOPTS.RSAES_OAEP_SHA_256);
      const handle = await pooled.unwrapMaterial({
        keySpec: pair.keySpec, algorithm: i % 3 === 0 ? 'SM2_ENCRYPT' : 'RSAES_OAEP_SHA_256', materialSpec: 'AES_256',
        privateKeyBlob: pair.privateKeyBlob, ciphertext: ct,
        ...(i % 2 === 0 ? { cacheKey: `token-${pair.keySpec}`, cacheUntil: Date.now() + 60_000 } : {}),
      });
      const probe = await pooled.encrypt(handle, new Uint8Array([1, 2, 3]));
      await pooled.release(handle);
      return { m, probe };
    }));
    // Each handle encrypted under its own material: decrypting locally proves the bytes.
    const { createDecipheriv } = await import('node:crypto');
    for (const { m, probe } of results) {
      const d = createDecipheriv('aes-256-gcm', m, probe.subarray(0, 12));
      d.setAuthTag(probe.subarray(probe.length - 16));
      expect([...Buffer.concat([d.update(probe.subarray(12, probe.length - 16)), d.final()])]).toEqual([1, 2, 3]);
    }
  });

  it('sends the key blob only to a worker that lacks the parsed key; a worker that dropped it answers KEY_NOT_CACHED and gets the blob', async () => {
    const material = new Uint8Array(randomBytes(32));
    const ct = opensslPkeyutlEncrypt(rsa.publicKeySpki, material, SEED_PKEYOPTS.RSAES_OAEP_SHA_256);
    let reads = 0;
    const request = (cacheKey: string) => ({
      keySpec: 'RSA_2048', algorithm: 'RSAES_OAEP_SHA_256', materialSpec: 'AES_256', ciphertext: ct, cacheKey, cacheUntil: Date.now() + 60_000,
      get privateKeyBlob() {
        reads++;
        return rsa.privateKeyBlob;
      },
    } as const);
    const probe = async (cacheKey: string) => {
      const handle = await pooled.unwrapMaterial(request(cacheKey));
      const fingerprint = await pooled.fingerprintMaterial(handle, 'k');
      await pooled.release(handle);
      return Buffer.from(fingerprint).toString('hex');
    };
    const first = await probe('blob-once');
    expect(reads).toBe(1);
    // One at a time, so the least-busy worker is always free: the pool prefers the one holding the key.
    for (let i = 0; i < 6; i++) expect(await probe('blob-once')).toBe(first);
    expect(reads).toBe(1);
    // White box: make the pool believe every worker holds a key none of them has.
    const slots = (pooled as unknown as { pool: { slots: Array<{ known: Map<string, number> }> } }).pool.slots;
    for (const slot of slots) slot.known.set('ghost', Date.now() + 60_000);
    reads = 0;
    expect(await probe('ghost')).toBe(first);
    expect(reads).toBe(1); // sent without the blob, refused, sent again with it
  });

  it('carries the uniform error across the thread boundary', async () => {
    const bad = opensslPkeyutlEncrypt(rsa.publicKeySpki, new Uint8Array(16), SEED_PKEYOPTS.RSAES_PKCS1_V1_5);
    const e = await pooled.unwrapMaterial({ keySpec: 'RSA_2048', algorithm: 'RSAES_PKCS1_V1_5', materialSpec: 'AES_256', privateKeyBlob: rsa.privateKeyBlob, ciphertext: bad })
      .then(() => undefined, (x: unknown) => x as { code: string; message: string });
    expect(e).toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED', message: ERROR_CODES.DECRYPT_MATERIAL_FAILED.message });
  });
});

describe('worker pool start-up and recovery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'byok-worker-'));
  const unwrapRequest = () => {
    const material = new Uint8Array(randomBytes(32));
    return { material, request: {
      keySpec: 'RSA_2048' as const, algorithm: 'RSAES_OAEP_SHA_256' as const, materialSpec: 'AES_256' as const,
      privateKeyBlob: rsa.privateKeyBlob, ciphertext: opensslPkeyutlEncrypt(rsa.publicKeySpki, material, SEED_PKEYOPTS.RSAES_OAEP_SHA_256),
    } };
  };

  // 3 s: a worker thread on a loaded 2-core machine can take longer than 300 ms to start and exit,
  // and the exit (or the wrong answer) must arrive before the deadline for those cases to be seen.
  it.each([
    ['a script that never says hello (e.g. a bundle started as its own worker)', 'setInterval(() => {}, 1000);\n', /did not say hello within 3000 ms/],
    ['a script that answers something else', "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage({ ready: true });\n", /answered with something other than its hello/],
    ['a script that exits at once', 'process.exit(3);\n', /exited \(code 3\) before its hello/],
  ])('%s: BACKEND_UNAVAILABLE naming the script, not a hang', async (_name, source, detail) => {
    const script = join(dir, `not-our-worker-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(script, source);
    const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)), workers: 1, workerUrl: script, workerStartTimeoutMs: 3000 });
    try {
      const e = await backend.unwrapMaterial(unwrapRequest().request).then(() => undefined, (x: unknown) => x as { code: string; message: string });
      expect(e).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
      expect(e!.message).toMatch(detail);
      expect(e!.message).toContain(script);
      // Later requests fail at once with the same reason.
      await expect(backend.unwrapMaterial(unwrapRequest().request)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(detail) });
    } finally {
      await backend.close();
    }
  }, 15_000);

  it('a missing worker script is BACKEND_UNAVAILABLE at once', () => {
    expect(() => createPureBackend({ masterKey: new Uint8Array(randomBytes(32)), workers: 1, workerUrl: join(dir, 'absent.js') }))
      .toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE', message: expect.stringContaining('absent.js') }));
  });

  it('a crashed worker is replaced: the next requests succeed', async () => {
    const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)), workers: 2 });
    try {
      const first = unwrapRequest();
      await backend.release(await backend.unwrapMaterial(first.request));
      const slots = (backend as unknown as { pool: { slots: { worker: Worker }[] } }).pool.slots;
      const killed = slots[0].worker;
      const exited = once(killed, 'exit');
      await killed.terminate();
      await exited;
      expect(slots[0].worker).not.toBe(killed);
      expect(backend.workerCount).toBe(2);
      const requests = Array.from({ length: 8 }, unwrapRequest);
      const handles = await Promise.all(requests.map((r) => backend.unwrapMaterial(r.request)));
      for (const [i, handle] of handles.entries()) {
        const probe = await backend.encrypt(handle, new Uint8Array([7]));
        const { createDecipheriv } = await import('node:crypto');
        const d = createDecipheriv('aes-256-gcm', requests[i].material, probe.subarray(0, 12));
        d.setAuthTag(probe.subarray(probe.length - 16));
        expect([...Buffer.concat([d.update(probe.subarray(12, probe.length - 16)), d.final()])]).toEqual([7]);
        await backend.release(handle);
      }
    } finally {
      await backend.close();
    }
  });
});
