/**
 * What an import costs the store, counted by a wrapper around a real store: a successful import
 * is one read (the key) and two writes (reserve an attempt; commit the key and give the attempt
 * back in one transaction). Failures keep or give back their attempt as the budget rules say.
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createPureBackend } from '../src/backends/pure/pure-backend.js';
import { ManualClock } from '../src/clock.js';
import { ImportEngine } from '../src/engine/import-engine.js';
import type { KeyStore } from '../src/store/key-store.js';
import { MemoryKeyStore } from '../src/store/memory-store.js';

const READS = new Set<string>(['getKey', 'listKeys', 'tokenFailures']);

/** A KeyStore that counts the calls made to the one it wraps, by kind and by name. */
function countingStore(inner: KeyStore) {
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const count = () => ({ reads: calls.filter((c) => READS.has(c)).length, writes: calls.filter((c) => !READS.has(c)).length, calls: [...calls] });
  return { store, count, reset: () => void calls.splice(0) };
}

const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
afterAll(() => backend.close());

function wrap(publicKey: string, material: Uint8Array): Uint8Array {
  const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
  return new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material));
}

describe('store calls per import', () => {
  const counting = countingStore(new MemoryKeyStore());
  const engine = new ImportEngine({
    backend, store: counting.store, clock: new ManualClock(Date.UTC(2026, 5, 1)),
    tokenSealingKeys: [{ id: 'tk1', key: new Uint8Array(randomBytes(32)) }], commitmentKey: new Uint8Array(randomBytes(32)),
  });

  it('a successful import: one read and two writes', async () => {
    const { keyId } = await engine.createKey({ tenant: 't' });
    const params = await engine.getParametersForImport({ tenant: 't', keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
    const material = new Uint8Array(randomBytes(32));
    counting.reset();
    expect((await engine.importKeyMaterial({ tenant: 't', keyId, importToken: params.importToken, encryptedKeyMaterial: wrap(params.publicKey, material) })).state).toBe('Enabled');
    expect(counting.count()).toEqual({ reads: 1, writes: 2, calls: ['reserveTokenAttempt', 'getKey', 'commitImport'] });
    // A re-import of the same material costs the same.
    counting.reset();
    await engine.importKeyMaterial({ tenant: 't', keyId, importToken: params.importToken, encryptedKeyMaterial: wrap(params.publicKey, material) });
    expect(counting.count()).toMatchObject({ reads: 1, writes: 2 });
  });

  it('a failed unwrap keeps its attempt (no release); a refusal that is no oracle gives it back', async () => {
    const { keyId } = await engine.createKey({ tenant: 't' });
    const params = await engine.getParametersForImport({ tenant: 't', keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
    const bad = wrap(params.publicKey, new Uint8Array(randomBytes(32)));
    bad[bad.length - 1] ^= 1;
    counting.reset();
    await expect(engine.importKeyMaterial({ tenant: 't', keyId, importToken: params.importToken, encryptedKeyMaterial: bad })).rejects.toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED' });
    expect(counting.count().calls).toEqual(['reserveTokenAttempt', 'getKey']);
    expect(await counting.store.tokenFailures(digestOf(params.importToken))).toBe(1);

    await engine.scheduleKeyDeletion({ tenant: 't', keyId, pendingDays: 7 });
    counting.reset();
    await expect(engine.importKeyMaterial({ tenant: 't', keyId, importToken: params.importToken, encryptedKeyMaterial: bad })).rejects.toMatchObject({ code: 'KEY_STATE_UNSUPPORTED' });
    expect(counting.count().calls).toEqual(['reserveTokenAttempt', 'getKey', 'releaseTokenAttempt']);
    expect(await counting.store.tokenFailures(digestOf(params.importToken))).toBe(1);
  });
});

/** The token's digest as the engine keys its counters: its MAC, the last 32 of the token bytes, hex. */
function digestOf(token: string): string {
  return Buffer.from(token, 'base64').subarray(-32).toString('hex');
}
