/**
 * The checks BackendBase does for every backend, run against each one in BACKENDS: a handle from
 * another backend, a use the key's kind does not allow, the one capability question, public
 * lengths refused before any crypto, release as a promise, and no test-only surface.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CryptoBackend, MaterialHandle } from '../../src/backends/crypto-backend.js';
import { ERROR_CODES } from '../../src/errors.js';
import { BACKENDS } from '../helpers/backends.js';
import { opensslPkeyutlEncrypt, SEED_PKEYOPTS } from '../helpers/openssl-cli.js';

for (const entry of BACKENDS) describe.skipIf(entry.unavailable !== undefined)(`backend checks on the ${entry.name} backend`, () => {
  let backend: CryptoBackend;
  /** A handle no backend made (as one from another backend class looks to this one). */
  const foreign: MaterialHandle = { backend: 'pure', materialSpec: 'AES_256' };

  beforeAll(async () => {
    const created = await entry.create();
    // The suite is collected only where the backend is available (describe.skipIf above).
    if ('skip' in created) throw new Error(created.skip);
    backend = created;
  });
  afterAll(async () => {
    await backend?.close();
  });

  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { code: string; message: string });

  it('one capability question: undefined, or the reason', () => {
    expect(backend.unsupportedReason({ materialSpec: 'AES_256' })).toBeUndefined();
    expect(backend.unsupportedReason({ materialSpec: 'AES_256', wrapping: { algorithm: 'RSAES_OAEP_SHA_1', keySpec: 'RSA_2048' } })).toBeUndefined();
    expect(backend.unsupportedReason({ materialSpec: 'AES_256', wrapping: { algorithm: 'SM2_ENCRYPT', keySpec: 'RSA_2048' } })).toBe('SM2_ENCRYPT cannot be used with RSA_2048.');
    // The envelope algorithm asks about its temporary-key unwrap (OAEP with the same hash).
    expect(backend.unsupportedReason({ materialSpec: 'AES_256', wrapping: { algorithm: 'RSA_AES_KEY_WRAP_SHA_1', keySpec: 'RSA_3072' } })).toBeUndefined();
    expect('supports' in backend || 'keySpecUnsupportedReason' in backend || 'kat' in backend).toBe(false);
  });

  it('preconditions before any crypto: handle ownership, key kind, lengths', async () => {
    const aes = await backend.generateMaterial('AES_256');
    try {
      for (const use of [backend.encrypt(foreign, new Uint8Array(1)), backend.release(foreign), backend.persistMaterial(foreign, 'k')]) {
        expect(await refusal(use)).toMatchObject({ code: 'INTERNAL_ERROR', message: 'Handle from another backend.' });
      }
      expect(await refusal(backend.generateMac(aes, new Uint8Array(1)))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      expect(await refusal(backend.sign(aes, 'RSASSA_PSS_SHA_256', new Uint8Array(1)))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      expect(await refusal(backend.publicKey(aes))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      expect(await refusal(backend.decrypt(aes, new Uint8Array(27)))).toMatchObject({ code: 'CIPHERTEXT_INVALID' });
      for (const wrapped of [new Uint8Array(8), new Uint8Array(41)]) {
        expect(await refusal(backend.unwrapWithTemporaryKey(aes, wrapped, 'AES_256'))).toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED', message: ERROR_CODES.DECRYPT_MATERIAL_FAILED.message });
      }
      const pair = await backend.generateWrappingKeyPair('RSA_2048');
      const good = opensslPkeyutlEncrypt(pair.publicKeySpki, new Uint8Array(randomBytes(32)), SEED_PKEYOPTS.RSAES_OAEP_SHA_1);
      const request = { keySpec: 'RSA_2048' as const, algorithm: 'RSAES_OAEP_SHA_1' as const, materialSpec: 'AES_256' as const, privateKeyBlob: pair.privateKeyBlob };
      expect(await refusal(backend.unwrapMaterial({ ...request, ciphertext: good.subarray(1) }))).toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED' });
      expect(await refusal(backend.unwrapMaterial({ ...request, materialSpec: 'RSA_2048', ciphertext: good }))).toMatchObject({ code: 'ALGORITHM_UNSUPPORTED', message: 'A RSA_2048 key is not wrapped directly.' });
      const handle = await backend.unwrapMaterial({ ...request, ciphertext: good });
      expect(handle.unwrapPath === undefined || handle.unwrapPath === 'device-unwrap').toBe(true);
      await expect(backend.release(handle)).resolves.toBeUndefined();
    } finally {
      await backend.release(aes);
    }
  });
});
