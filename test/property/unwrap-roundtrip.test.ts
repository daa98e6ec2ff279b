/**
 * Property tests of the unwrap core through the pure backend: for every wrapping algorithm ×
 * wrapping key spec × directly-wrapped material spec, random material wraps (as a customer
 * does) and unwraps to itself; any single-bit flip of the ciphertext (raw or GM/T 0009 DER for
 * SM2) is DECRYPT_MATERIAL_FAILED with its one message, never accepted, never another error.
 * One wrapping key per spec, made once (RSA key generation is the slow part).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSm2CiphertextDer, parseSm2Raw } from '../../src/algorithms/sm2/sm2-ciphertext.js';
import { allWrappingCombinations, MATERIAL_SPECS, type MaterialSpec, type WrappingKeySpec } from '../../src/algorithms/specs.js';
import type { MaterialHandle, WrappingKeyPair } from '../../src/backends/crypto-backend.js';
import { createPureBackend, type PureBackend } from '../../src/backends/pure/pure-backend.js';
import { wrapMaterial } from '../../src/client/wrap.js';
import { ByokError, ERROR_CODES } from '../../src/errors.js';

let backend: PureBackend;
const keys = new Map<WrappingKeySpec, WrappingKeyPair>();

beforeAll(async () => {
  backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
  for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] as const) keys.set(spec, await backend.generateWrappingKeyPair(spec));
}, 120_000);
afterAll(async () => {
  await backend?.close();
});

/** Material that arrives wrapped directly (symmetric and HMAC keys: a fixed length). */
const DIRECT_SPECS = (Object.keys(MATERIAL_SPECS) as MaterialSpec[]).filter((s) => MATERIAL_SPECS[s].length > 0);
const CASES = allWrappingCombinations().flatMap(({ algorithm, keySpec }) => DIRECT_SPECS.map((materialSpec) => ({ algorithm, keySpec, materialSpec })));
const runsFor = (keySpec: WrappingKeySpec) => (keySpec === 'RSA_4096' ? 2 : keySpec === 'RSA_3072' ? 3 : 6);

function materialOf(handle: MaterialHandle): Uint8Array {
  return (handle as unknown as { material(): Uint8Array }).material();
}

async function expectUnwrapFailure(promise: Promise<unknown>): Promise<void> {
  let caught: unknown;
  try {
    const handle = await promise;
    await backend.release(handle as MaterialHandle);
  } catch (e) {
    caught = e;
  }
  expect(caught, 'a tampered ciphertext was accepted').toBeInstanceOf(ByokError);
  expect((caught as ByokError).code).toBe('DECRYPT_MATERIAL_FAILED');
  expect((caught as ByokError).message).toBe(ERROR_CODES.DECRYPT_MATERIAL_FAILED.message);
}

describe.each(CASES)('$algorithm / $keySpec / $materialSpec', ({ algorithm, keySpec, materialSpec }) => {
  const length = MATERIAL_SPECS[materialSpec].length;
  const request = (ciphertext: Uint8Array) => ({ keySpec, algorithm, materialSpec, privateKeyBlob: keys.get(keySpec)!.privateKeyBlob, ciphertext, cacheKey: keySpec, cacheUntil: Date.now() + 600_000 });
  const wrap = (m: Uint8Array) => wrapMaterial({ publicKey: keys.get(keySpec)!.publicKeySpki, algorithm, material: m });

  it('wrap → unwrap gives the material back', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: length, maxLength: length }), async (m) => {
      const handle = await backend.unwrapMaterial(request(wrap(m)));
      try {
        expect(Buffer.from(materialOf(handle))).toEqual(Buffer.from(m));
      } finally {
        await backend.release(handle);
      }
    }), { numRuns: runsFor(keySpec) });
  });

  it('any single-bit flip of the ciphertext is DECRYPT_MATERIAL_FAILED', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: length, maxLength: length }), fc.nat(), fc.integer({ min: 0, max: 7 }), async (m, at, bit) => {
      const ct = wrap(m);
      ct[at % ct.length] ^= 1 << bit;
      await expectUnwrapFailure(backend.unwrapMaterial(request(ct)));
    }), { numRuns: runsFor(keySpec) * 2 });
  });

  it('material of another length is DECRYPT_MATERIAL_FAILED', async () => {
    const other = length === 16 ? 32 : 16;
    await expectUnwrapFailure(backend.unwrapMaterial(request(wrap(new Uint8Array(randomBytes(other))))));
  });

  if (keySpec === 'SM2') {
    it('the GM/T 0009 DER form unwraps, and any single-bit flip of the DER is DECRYPT_MATERIAL_FAILED', async () => {
      await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: length, maxLength: length }), fc.nat(), fc.integer({ min: 0, max: 7 }), async (m, at, bit) => {
        const der = encodeSm2CiphertextDer(parseSm2Raw(wrap(m), 'C1C3C2'));
        const handle = await backend.unwrapMaterial(request(der));
        expect(Buffer.from(materialOf(handle))).toEqual(Buffer.from(m));
        await backend.release(handle);
        der[at % der.length] ^= 1 << bit;
        await expectUnwrapFailure(backend.unwrapMaterial(request(der)));
      }), { numRuns: 8 });
    });
  }
});
