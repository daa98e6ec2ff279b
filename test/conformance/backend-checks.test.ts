/**
 * The checks BackendBase does for every backend, run against each one in BACKENDS: a handle from
 * another backend, a use the key's kind does not allow, the one capability question, public
 * lengths refused before any crypto, release as a promise, and no test-only surface. Where a
 * backend declares a lack (opencryptoki: no AES-GCM, no AES key wrap with padding), HMAC_256
 * stands in for AES_256 where it can, the rest is skipped naming the lack, and one test checks
 * that the declared lacks are exactly what the backend refuses.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { MaterialSpec } from '../../src/algorithms/specs.js';
import type { CapabilityQuery, MaterialHandle } from '../../src/backends/crypto-backend.js';
import { ERROR_CODES } from '../../src/errors.js';
import { declaredLack, needing, openBackends } from '../helpers/backends.js';
import { opensslPkeyutlEncrypt, SEED_PKEYOPTS } from '../helpers/openssl-cli.js';

const OPENED = await openBackends();

for (const { entry, backend: opened } of OPENED) describe.skipIf(opened === undefined)(`backend checks on the ${entry.name} backend`, () => {
  // Collected also where the suite is skipped (then `opened` is undefined and nothing runs).
  const backend = opened!;
  /** A handle no backend made (as one from another backend class looks to this one). */
  const foreign: MaterialHandle = { backend: 'pure', materialSpec: 'AES_256' };
  const AES: CapabilityQuery = { materialSpec: 'AES_256' };
  /** A temporary AES-256 key: what envelopes and private keys need (AES key wrap with padding). */
  const TEMPORARY_KEY: CapabilityQuery = { materialSpec: 'HMAC_256', wrapping: { algorithm: 'RSA_AES_KEY_WRAP_SHA_1', keySpec: 'RSA_3072' } };
  const aesLack = declaredLack(opened, AES);
  const temporaryKeyLack = declaredLack(opened, TEMPORARY_KEY);
  /** The material the generic checks use: AES_256, or HMAC_256 where the backend declares AES_256 unsupported. */
  const MATERIAL = aesLack === undefined ? 'AES_256' : 'HMAC_256';

  afterAll(async () => {
    await opened?.close();
  });

  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { code: string; message: string });

  it(`one capability question: undefined, or the reason (${MATERIAL})`, () => {
    expect(backend.unsupportedReason({ materialSpec: MATERIAL })).toBeUndefined();
    expect(backend.unsupportedReason({ materialSpec: MATERIAL, wrapping: { algorithm: 'RSAES_OAEP_SHA_1', keySpec: 'RSA_2048' } })).toBeUndefined();
    expect(backend.unsupportedReason({ materialSpec: MATERIAL, wrapping: { algorithm: 'SM2_ENCRYPT', keySpec: 'RSA_2048' } })).toBe('SM2_ENCRYPT cannot be used with RSA_2048.');
    // The envelope algorithm asks about its temporary-key unwrap (OAEP with the same hash), not the material's.
    expect(backend.unsupportedReason({ materialSpec: MATERIAL, wrapping: TEMPORARY_KEY.wrapping })).toBe(temporaryKeyLack);
    expect('supports' in backend || 'keySpecUnsupportedReason' in backend || 'kat' in backend).toBe(false);
  });

  it('the declared lacks are exactly what the backend refuses (ALGORITHM_UNSUPPORTED with the reason)', async () => {
    // AES_256 material: generateMaterial is refused with the reason, or makes a key.
    const aes = await backend.generateMaterial('AES_256').then((h) => h, (e: unknown) => e as { code: string; message: string });
    if (aesLack === undefined) await backend.release(aes as MaterialHandle);
    else expect(aes).toMatchObject({ code: 'ALGORITHM_UNSUPPORTED', message: aesLack });
    // A temporary key: unwrapping one with the envelope's OAEP is refused with the reason, or runs
    // (then a wrong-length ciphertext is the uniform error: the refusal came before any crypto).
    const pair = await backend.generateWrappingKeyPair('RSA_3072');
    const temporary = await refusal(backend.unwrapMaterial({ keySpec: 'RSA_3072', algorithm: 'RSAES_OAEP_SHA_1', materialSpec: 'AES_256', temporaryKey: true, privateKeyBlob: pair.privateKeyBlob, ciphertext: new Uint8Array(1) }));
    expect(temporary).toMatchObject(temporaryKeyLack === undefined ? { code: 'DECRYPT_MATERIAL_FAILED' } : { code: 'ALGORITHM_UNSUPPORTED', message: temporaryKeyLack });
  });

  it('preconditions before any crypto: handle ownership, key kind (HMAC_256), the RSA ciphertext length', async () => {
    const hmac = await backend.generateMaterial('HMAC_256');
    try {
      for (const use of [backend.encrypt(foreign, new Uint8Array(1)), backend.release(foreign), backend.persistMaterial(foreign, 'k')]) {
        expect(await refusal(use)).toMatchObject({ code: 'INTERNAL_ERROR', message: 'Handle from another backend.' });
      }
      // An HMAC key neither encrypts, decrypts nor signs, and has no public key.
      expect(await refusal(backend.encrypt(hmac, new Uint8Array(1)))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      expect(await refusal(backend.decrypt(hmac, new Uint8Array(40)))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      expect(await refusal(backend.sign(hmac, 'RSASSA_PSS_SHA_256', new Uint8Array(1)))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      expect(await refusal(backend.publicKey(hmac))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      const pair = await backend.generateWrappingKeyPair('RSA_2048');
      const good = opensslPkeyutlEncrypt(pair.publicKeySpki, new Uint8Array(randomBytes(32)), SEED_PKEYOPTS.RSAES_OAEP_SHA_1);
      const request = { keySpec: 'RSA_2048' as const, algorithm: 'RSAES_OAEP_SHA_1' as const, materialSpec: MATERIAL as MaterialSpec, privateKeyBlob: pair.privateKeyBlob };
      expect(await refusal(backend.unwrapMaterial({ ...request, ciphertext: good.subarray(1) }))).toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED' });
      // A private key never comes directly (or the backend cannot hold one at all: its reason first).
      const direct = backend.unsupportedReason({ materialSpec: 'RSA_2048' }) ?? 'A RSA_2048 key is not wrapped directly.';
      expect(await refusal(backend.unwrapMaterial({ ...request, materialSpec: 'RSA_2048', ciphertext: good }))).toMatchObject({ code: 'ALGORITHM_UNSUPPORTED', message: direct });
      const handle = await backend.unwrapMaterial({ ...request, ciphertext: good });
      expect(handle.unwrapPath === undefined || handle.unwrapPath === 'device-unwrap').toBe(true);
      await expect(backend.release(handle)).resolves.toBeUndefined();
    } finally {
      await backend.release(hmac);
    }
  });

  it.skipIf(aesLack !== undefined)(needing('preconditions of AES_256 material: no MAC, the GCM blob length, the RFC 5649 lengths (uniform error)', aesLack), async () => {
    const aes = await backend.generateMaterial('AES_256');
    try {
      expect(await refusal(backend.generateMac(aes, new Uint8Array(1)))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      expect(await refusal(backend.sign(aes, 'RSASSA_PSS_SHA_256', new Uint8Array(1)))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      expect(await refusal(backend.publicKey(aes))).toMatchObject({ code: 'INVALID_KEY_USAGE' });
      expect(await refusal(backend.decrypt(aes, new Uint8Array(27)))).toMatchObject({ code: 'CIPHERTEXT_INVALID' });
      for (const wrapped of [new Uint8Array(8), new Uint8Array(41)]) {
        expect(await refusal(backend.unwrapWithTemporaryKey(aes, wrapped, 'AES_256'))).toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED', message: ERROR_CODES.DECRYPT_MATERIAL_FAILED.message });
      }
    } finally {
      await backend.release(aes);
    }
  });
});
