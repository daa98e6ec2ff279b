/**
 * Which code the import path's RSA unwrap runs, pinned deterministically (the timing harness,
 * bench/ct.ts, measures the time; this proves the path). Issue 14:
 * - defect 5: OAEP goes through the branch-free decoder over raw RSA, so "valid padding, wrong
 *   material length" and "bad padding" both run the whole decoder and fail from its one mask;
 * - defect 6: a temporary key's bad padding is an implicit rejection (a random substitute, the
 *   same decoder run), never a throw before the key-wrap step.
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { withSubstitute } from '../src/algorithms/rsa/ct.js';
import * as oaep from '../src/algorithms/rsa/oaep-decode.js';
import type { WrappingKeyPair } from '../src/backends/crypto-backend.js';
import { createPureBackend, type PureBackend } from '../src/backends/pure/pure-backend.js';
import { ByokError } from '../src/errors.js';

vi.mock('../src/algorithms/rsa/oaep-decode.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/algorithms/rsa/oaep-decode.js')>();
  return { ...original, oaepDecodeMasked: vi.fn(original.oaepDecodeMasked) };
});
const decoder = vi.mocked(oaep.oaepDecodeMasked);

let backend: PureBackend;
let pair: WrappingKeyPair;
beforeAll(async () => {
  backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
  pair = await backend.generateWrappingKeyPair('RSA_2048');
});
afterAll(() => backend.close());
beforeEach(() => {
  decoder.mockClear();
});

const publicKey = () => createPublicKey({ key: Buffer.from(pair.publicKeySpki), format: 'der', type: 'spki' });
/** Valid OAEP-SHA-256 padding (node's encoder) around a message of `length` bytes. */
const oaepOf = (length: number) => new Uint8Array(publicEncrypt({ key: publicKey(), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(length)));
/** No padding at all: a random block below n. */
const badPadding = () => new Uint8Array(publicEncrypt({ key: publicKey(), padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.of(0), randomBytes(255)])));
const request = (ciphertext: Uint8Array, temporaryKey = false) => ({
  keySpec: 'RSA_2048', algorithm: 'RSAES_OAEP_SHA_256', materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob, ciphertext, temporaryKey,
} as const);

async function failure(p: Promise<unknown>): Promise<ByokError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ByokError);
  return e as ByokError;
}

describe('the import path\'s OAEP (issue 14 defect 5)', () => {
  it('valid padding with a wrong material length and bad padding fail alike, each after one whole run of the branch-free decoder', async () => {
    const errors: ByokError[] = [];
    for (const ciphertext of [oaepOf(48), badPadding(), oaepOf(16)]) {
      decoder.mockClear();
      errors.push(await failure(backend.unwrapMaterial(request(ciphertext))));
      // The decoder ran to its end and returned its mask; the throw came after it, from the mask.
      expect(decoder).toHaveBeenCalledTimes(1);
      expect(decoder.mock.results[0].type).toBe('return');
      expect((decoder.mock.results[0].value as { good: number }).good).toBe(0);
    }
    for (const e of errors) {
      expect(e.code).toBe('DECRYPT_MATERIAL_FAILED');
      expect(e.message).toBe(errors[0].message);
      expect(e.cause).toBeUndefined();
    }
  });

  it('the right length still imports, through the same decoder', async () => {
    const handle = await backend.unwrapMaterial(request(oaepOf(32)));
    expect(decoder).toHaveBeenCalledTimes(1);
    expect((decoder.mock.results[0].value as { good: number }).good).toBe(1);
    await backend.release(handle);
  });
});

describe('a temporary key\'s implicit rejection (issue 14 defect 6)', () => {
  it('bad padding or a wrong length gives a handle (a substitute), and the key-wrap step under it fails with the uniform error', async () => {
    for (const ciphertext of [badPadding(), oaepOf(16), oaepOf(48)]) {
      const handle = await backend.unwrapMaterial(request(ciphertext, true));
      expect(decoder).toHaveBeenCalledTimes(1);
      try {
        const e = await failure(backend.unwrapWithTemporaryKey(handle, new Uint8Array(randomBytes(40)), 'HMAC_256'));
        expect(e.code).toBe('DECRYPT_MATERIAL_FAILED');
      } finally {
        await backend.release(handle);
      }
      decoder.mockClear();
    }
  });

  it('a public failure (the ciphertext length) still throws at once', async () => {
    expect((await failure(backend.unwrapMaterial(request(new Uint8Array(255), true)))).code).toBe('DECRYPT_MATERIAL_FAILED');
    expect(decoder).not.toHaveBeenCalled();
  });

  it('withSubstitute keeps a good decode and replaces a bad one with the substitute, wiping it', () => {
    const out = new Uint8Array(randomBytes(32));
    const kept = Uint8Array.from(out);
    const sub = new Uint8Array(randomBytes(32));
    expect(Buffer.from(withSubstitute({ good: 1, out }, sub).out)).toEqual(Buffer.from(kept));
    expect(sub.every((b) => b === 0)).toBe(true);
    const sub2 = new Uint8Array(randomBytes(32));
    const expected = Uint8Array.from(sub2);
    expect(Buffer.from(withSubstitute({ good: 0, out: Uint8Array.from(kept) }, sub2).out)).toEqual(Buffer.from(expected));
  });
});
