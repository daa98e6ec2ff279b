/** The pure backend with worker threads gives the same answers and the same uniform error. */
import { randomBytes } from 'node:crypto';
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
      pooled.release(handle);
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

  it('carries the uniform error across the thread boundary', async () => {
    const bad = opensslPkeyutlEncrypt(rsa.publicKeySpki, new Uint8Array(16), SEED_PKEYOPTS.RSAES_PKCS1_V1_5);
    const e = await pooled.unwrapMaterial({ keySpec: 'RSA_2048', algorithm: 'RSAES_PKCS1_V1_5', materialSpec: 'AES_256', privateKeyBlob: rsa.privateKeyBlob, ciphertext: bad })
      .then(() => undefined, (x: unknown) => x as { code: string; message: string });
    expect(e).toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED', message: ERROR_CODES.DECRYPT_MATERIAL_FAILED.message });
  });
});
