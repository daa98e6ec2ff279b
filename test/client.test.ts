/**
 * `byok-hsm/client` (src/client/index.ts): what it wraps for every wrapping algorithm and key
 * spec the engine has, the engine's unwrap (on the pure backend) gives back the same key; its SM2 path refuses a
 * non-SM2 public key with its own error.
 */
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allWrappingCombinations, type WrappingKeySpec } from '../src/algorithms/specs.js';
import type { WrappingKeyPair } from '../src/backends/crypto-backend.js';
import { createPureBackend, type PureBackend } from '../src/backends/pure/pure-backend.js';
import { wrapForImport, wrapMaterial } from '../src/client/index.js';
import { importShape, unwrapImport } from '../src/engine/material-unwrap.js';
import { ByokError } from '../src/errors.js';

let backend: PureBackend;
const pairs = new Map<WrappingKeySpec, WrappingKeyPair>();
beforeAll(async () => {
  backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
  for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] as const) pairs.set(spec, await backend.generateWrappingKeyPair(spec));
}, 60_000);
afterAll(() => backend.close());

describe('wrapForImport from the client entry', () => {
  it.each(allWrappingCombinations({ envelope: true }))('$algorithm / $keySpec: an HMAC_256 key unwraps to itself', async ({ algorithm, keySpec }) => {
    const material = new Uint8Array(randomBytes(32));
    const expected = createHmac('sha256', material).update('probe').digest();
    const pair = pairs.get(keySpec)!;
    const { encryptedKeyMaterial, encryptedPrivateKey } = wrapForImport({ publicKey: Buffer.from(pair.publicKeySpki).toString('base64'), algorithm, material });
    expect(encryptedPrivateKey).toBeUndefined();
    const request = { keySpec, algorithm, materialSpec: 'HMAC_256' as const, privateKeyBlob: pair.privateKeyBlob, ciphertext: encryptedKeyMaterial };
    const handle = await unwrapImport(backend, importShape(algorithm, 'HMAC_256', false), request);
    try {
      expect(Buffer.from(await backend.generateMac(handle, new TextEncoder().encode('probe')))).toEqual(expected);
    } finally {
      await backend.release(handle);
    }
  });

  it('SM2_ENCRYPT with an RSA or P-256 public key is INVALID_PARAMETER, naming SM2', () => {
    for (const publicKey of [pairs.get('RSA_2048')!.publicKeySpki, new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }))]) {
      let caught: unknown;
      try {
        wrapMaterial({ publicKey, algorithm: 'SM2_ENCRYPT', material: new Uint8Array(32) });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ByokError);
      expect((caught as ByokError).code).toBe('INVALID_PARAMETER');
      expect((caught as ByokError).message).toMatch(/SM2_ENCRYPT needs an SM2 public key/);
    }
  });
});
