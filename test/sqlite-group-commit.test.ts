/**
 * SQLite group commit: writes queued in one turn share one transaction and one fsync, each
 * caller's mutation stays atomic and isolated, and nobody is answered before its batch is on
 * disk (an fdatasync of the WAL begun after the COMMIT).
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createPureBackend } from '../src/backends/pure/pure-backend.js';
import { ImportEngine } from '../src/engine/import-engine.js';
import { ByokError } from '../src/errors.js';
import type { KeyRecord } from '../src/store/key-store.js';
import { SqliteKeyStore } from '../src/store/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-group-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (keyId: string): KeyRecord => ({ keyId, tenant: 't', origin: 'EXTERNAL', materialSpec: 'AES_256', state: 'PendingImport', createdAt: 1 });

let n = 0;
function openStore(): { store: SqliteKeyStore; path: string; batches: number[] } {
  const path = join(dir, `g-${n++}.sqlite`);
  const store = new SqliteKeyStore(path);
  // White box: count the transactions (one COMMIT, one fsync each) and their sizes.
  const batches: number[] = [];
  const inner = store as unknown as { runBatch: { immediate: (b: unknown[]) => unknown } };
  const original = inner.runBatch;
  inner.runBatch = { immediate: (b: unknown[]) => (batches.push(b.length), original.immediate(b)) };
  return { store, path, batches };
}

describe('SQLite group commit', () => {
  it('concurrent writes share one transaction; each mutation sees the ones queued before it', async () => {
    const { store, batches } = openStore();
    await store.createKey(record('k'));
    expect(batches).toEqual([1]);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.updateKey('k', (cur) => ({ ...cur, createdAt: cur.createdAt + 1 }))));
    expect(batches).toEqual([1, 50]);
    expect(results.map((r) => r!.createdAt)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect((await store.getKey('k'))!.createdAt).toBe(51);
    await store.close();
  });

  it('a mutation that throws inside a batch rolls back only itself', async () => {
    const { store, batches } = openStore();
    await Promise.all(['a', 'b', 'c'].map((k) => store.createKey(record(k))));
    const outcomes = await Promise.allSettled([
      store.updateKey('a', (cur) => ({ ...cur, state: 'Enabled' })),
      store.updateKey('b', (cur) => {
        void cur;
        throw new ByokError('KEY_MATERIAL_MISMATCH');
      }),
      store.updateKey('c', (cur) => ({ ...cur, state: 'Disabled' })),
      store.createKey(record('a')), // duplicate key: a constraint error, STORE_UNAVAILABLE, alone
      store.updateKey('missing', (cur) => cur),
    ]);
    expect(batches).toEqual([3, 5]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'KEY_MATERIAL_MISMATCH' });
    expect((outcomes[3] as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect((outcomes[4] as PromiseFulfilledResult<unknown>).value).toBeUndefined();
    expect((await store.getKey('a'))!.state).toBe('Enabled');
    expect((await store.getKey('b'))!.state).toBe('PendingImport');
    expect((await store.getKey('c'))!.state).toBe('Disabled');
    await store.close();
  });

  it('a caller is answered only after the COMMIT: another connection already sees its write', async () => {
    const { store, path } = openStore();
    const other = new Database(path, { readonly: true });
    const seen = await Promise.all(Array.from({ length: 10 }, (_, i) => store.createKey(record(`k${i}`)).then(() => other.prepare('SELECT count(*) AS n FROM keys WHERE key_id = ?').get(`k${i}`))));
    expect(seen).toEqual(Array.from({ length: 10 }, () => ({ n: 1 })));
    other.close();
    await store.close();
  });

  it('an import commit is one write: the key and the attempt release land or roll back together', async () => {
    const { store, path, batches } = openStore();
    await store.createKey(record('k'));
    expect(await store.reserveTokenAttempt('d', 100, 1)).toBe(true);
    expect(await store.reserveTokenAttempt('d', 100, 1)).toBe(false);
    // Queued in one turn, so one batch: a refused commit rolls back alone (the attempt stays
    // counted), the next lands with its release, and a reserve queued after it finds the budget free.
    const outcomes = await Promise.allSettled([
      store.commitImport('k', () => { throw new ByokError('KEY_MATERIAL_MISMATCH'); }, 'd'),
      store.commitImport('k', (cur) => ({ ...cur, state: 'Enabled' }), 'd'),
      store.reserveTokenAttempt('d', 100, 1),
    ]);
    expect(batches.slice(-1)).toEqual([3]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[2] as PromiseFulfilledResult<boolean>).value).toBe(true);
    expect(await store.tokenFailures('d')).toBe(1);
    // A release on its own is an ordinary write: answered once its batch is on disk.
    await store.releaseTokenAttempt('d');
    await store.close();
    const again = new SqliteKeyStore(path);
    expect(await again.tokenFailures('d')).toBe(0);
    expect((await again.getKey('k'))!.state).toBe('Enabled');
    await again.close();
  });

  it('nobody is answered before an fdatasync of the WAL that began after its COMMIT has returned', async () => {
    const { store } = openStore();
    const syncs: Array<() => void> = [];
    const seam = store as unknown as { syncFile: (fd: number, done: (e: Error | null) => void) => void };
    seam.syncFile = (_fd, done) => syncs.push(() => done(null));
    let answered = 0;
    const first = store.createKey(record('a')).then(() => answered++);
    await new Promise((r) => setImmediate(r)); // its batch committed, its fdatasync started
    expect(syncs).toHaveLength(1);
    // Committed while that fdatasync runs: not covered by it, so it gets its own.
    const second = store.createKey(record('b')).then(() => answered++);
    await new Promise((r) => setImmediate(r));
    expect(await store.getKey('b')).toBeDefined(); // visible to reads, not yet acknowledged
    expect(syncs).toHaveLength(2);
    // Two fdatasyncs at most: a third batch waits for one of them to end, then starts its own.
    const third = store.createKey(record('c')).then(() => answered++);
    await new Promise((r) => setImmediate(r));
    expect(syncs).toHaveLength(2);
    expect(answered).toBe(0);
    syncs.shift()!();
    await first;
    expect(answered).toBe(1);
    expect(syncs).toHaveLength(2); // the second's, still running, and the third's, just begun
    syncs.shift()!();
    await second;
    expect(answered).toBe(2);
    syncs.shift()!();
    await third;
    expect(answered).toBe(3);
    seam.syncFile = (_fd, done) => done(null);
    await store.close();
  });

  it('a failed fdatasync is STORE_UNAVAILABLE for its batch and for everything after it', async () => {
    const { store } = openStore();
    await store.createKey(record('a'));
    const seam = store as unknown as { syncFile: (fd: number, done: (e: Error | null) => void) => void };
    seam.syncFile = (_fd, done) => done(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(store.updateKey('a', (c) => ({ ...c, state: 'Enabled' }))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.getKey('a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.tokenFailures('d')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.reserveTokenAttempt('d', 1, 1)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    seam.syncFile = (_fd, done) => done(null);
    await store.close();
  });

  it('an attempt reservation is answered at its COMMIT, durable only after its fdatasync; parallel ones stop at the budget', async () => {
    const { store } = openStore();
    await store.createKey(record('a'));
    const syncs: Array<(e: Error | null) => void> = [];
    const seam = store as unknown as { syncFile: (fd: number, done: (e: Error | null) => void) => void };
    seam.syncFile = (_fd, done) => syncs.push(done);
    const reservations = await Promise.all(Array.from({ length: 5 }, () => store.reserveTokenAttemptCommitted('d', 9_999_999_999, 3)));
    expect(reservations.map((r) => r.reserved)).toEqual([true, true, true, false, false]);
    expect(syncs).toHaveLength(1); // answered while the disk still flushes
    let durable = 0;
    for (const r of reservations) void r.durable.then(() => durable++);
    await new Promise((r) => setImmediate(r));
    expect(durable).toBe(0);
    syncs.shift()!(null);
    await Promise.all(reservations.map((r) => r.durable));
    expect(durable).toBe(5);
    // A failed fdatasync: the reservation was committed, but never durable.
    const lost = await store.reserveTokenAttemptCommitted('e', 9_999_999_999, 3);
    expect(lost.reserved).toBe(true);
    syncs.shift()!(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(lost.durable).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    seam.syncFile = (_fd, done) => done(null);
    await store.close();
  });

  it('the engine unwraps during the reservation\'s fdatasync but answers only after it; a failed one is STORE_UNAVAILABLE, no oracle answer', async () => {
    const { store } = openStore();
    const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
    const engine = new ImportEngine({ backend, store, tokenSealingKeys: [{ id: 'tk1', key: new Uint8Array(randomBytes(32)) }], commitmentKey: new Uint8Array(randomBytes(32)) });
    try {
      const { keyId } = await engine.createKey({ tenant: 't' });
      const params = await engine.getParametersForImport({ tenant: 't', keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
      const spki = createPublicKey({ key: Buffer.from(params.publicKey, 'base64'), format: 'der', type: 'spki' });
      const bad = publicEncrypt({ key: spki, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
      bad[bad.length - 1] ^= 1;
      const unwraps: number[] = [];
      const unwrapMaterial = backend.unwrapMaterial.bind(backend);
      backend.unwrapMaterial = (req) => (unwraps.push(syncs.length), unwrapMaterial(req));
      const syncs: Array<(e: Error | null) => void> = [];
      const seam = store as unknown as { syncFile: (fd: number, done: (e: Error | null) => void) => void };
      seam.syncFile = (_fd, done) => syncs.push(done);
      let settled = false;
      const attempt = engine.importKeyMaterial({ tenant: 't', keyId, importToken: params.importToken, encryptedKeyMaterial: new Uint8Array(bad) }).finally(() => (settled = true));
      attempt.catch(() => undefined);
      while (unwraps.length === 0) await new Promise((r) => setImmediate(r));
      expect(unwraps).toEqual([1]); // the unwrap ran while the reservation's fdatasync was pending
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(settled).toBe(false); // the unwrap's answer waits for the disk
      syncs.shift()!(Object.assign(new Error('EIO'), { code: 'EIO' }));
      await expect(attempt).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      seam.syncFile = (_fd, done) => done(null);
    } finally {
      await engine.close();
      await backend.close();
      await store.close().catch(() => undefined);
    }
  });

  it('after close every write is STORE_UNAVAILABLE', async () => {
    const { store } = openStore();
    await store.close();
    await expect(store.createKey(record('x'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.updateKey('x', (c) => c)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.releaseTokenAttempt('x')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.commitImport('x', (c) => c, 'd')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
