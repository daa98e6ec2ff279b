/** One suite for every KeyStore: atomic mutations, token counters, durability of the SQLite file. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEngineKeys } from '../src/config/key-files.js';
import { ByokError } from '../src/errors.js';
import type { KeyRecord, KeyStore } from '../src/store/key-store.js';
import { MemoryKeyStore } from '../src/store/memory-store.js';
import { SqliteKeyStore } from '../src/store/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (keyId: string): KeyRecord => ({ keyId, tenant: 't', origin: 'EXTERNAL', materialSpec: 'AES_256', state: 'PendingImport', createdAt: 1 });

describe.each([
  { name: 'memory', open: (): KeyStore => new MemoryKeyStore() },
  { name: 'sqlite', open: (): KeyStore => new SqliteKeyStore(join(dir, `s-${Math.random()}.sqlite`)) },
])('$name key store', ({ open }) => {
  it('creates, reads, lists and round-trips every field (null vs undefined expiry too)', async () => {
    const s = open();
    await s.createKey(record('k1'));
    await s.createKey({ ...record('k2'), tenant: 'u', alias: 'a', commitment: new Uint8Array([1, 2]), storedMaterial: new Uint8Array([3]), materialExpiresAt: null, state: 'Enabled' });
    await s.createKey({ ...record('k3'), materialExpiresAt: 99, deletionDate: 5 });
    expect(await s.getKey('k1')).toEqual(record('k1'));
    expect(await s.getKey('k2')).toMatchObject({ alias: 'a', materialExpiresAt: null, state: 'Enabled' });
    expect([...(await s.getKey('k2'))!.commitment!]).toEqual([1, 2]);
    expect(await s.getKey('k3')).toMatchObject({ materialExpiresAt: 99, deletionDate: 5 });
    expect((await s.listKeys('t')).map((k) => k.keyId)).toEqual(['k1', 'k3']);
    await s.deleteKey('k3');
    expect(await s.getKey('k3')).toBeUndefined();
    await s.close();
  });

  it('a mutation that throws writes nothing', async () => {
    const s = open();
    await s.createKey(record('k'));
    await expect(s.updateKey('k', () => { throw new ByokError('KEY_MATERIAL_MISMATCH'); })).rejects.toMatchObject({ code: 'KEY_MATERIAL_MISMATCH' });
    expect(await s.getKey('k')).toEqual(record('k'));
    expect(await s.updateKey('missing', (c) => c)).toBeUndefined();
    const next = await s.updateKey('k', (c) => ({ ...c, state: 'Enabled', commitment: new Uint8Array([9]) }));
    expect(next?.state).toBe('Enabled');
    expect((await s.getKey('k'))?.state).toBe('Enabled');
    await s.close();
  });

  it('counts token failures, consumes single-use tokens once, prunes expired rows', async () => {
    const s = open();
    expect(await s.tokenFailures('d')).toBe(0);
    expect(await s.addTokenFailure('d', 100)).toBe(1);
    expect(await s.addTokenFailure('d', 100)).toBe(2);
    expect(await s.tokenFailures('d')).toBe(2);
    expect(await s.consumeToken('e', 100)).toBe(true);
    expect(await s.consumeToken('e', 100)).toBe(false);
    expect(await s.pruneTokens(101)).toBe(2);
    expect(await s.tokenFailures('d')).toBe(0);
    await s.close();
  });
});

describe('SQLite durability and key files', () => {
  it('a second connection sees committed writes (WAL, synchronous=FULL)', async () => {
    const path = join(dir, 'shared.sqlite');
    const a = new SqliteKeyStore(path);
    const b = new SqliteKeyStore(path);
    await a.createKey(record('x'));
    expect(await b.getKey('x')).toEqual(record('x'));
    await a.close();
    await b.close();
    // Re-opening runs the (idempotent) migrations again.
    const c = new SqliteKeyStore(path);
    expect(await c.getKey('x')).toEqual(record('x'));
    await c.close();
  });

  it('creates the keys file once, with mode 0600, and reads the same keys back', () => {
    const d = join(dir, 'data');
    const k1 = loadEngineKeys(d, {});
    expect(statSync(join(d, 'keys.json')).mode & 0o777).toBe(0o600);
    const k2 = loadEngineKeys(d, {});
    expect(Buffer.from(k2.commitment)).toEqual(Buffer.from(k1.commitment));
    expect(k2.master[0].id).toBe('mk1');
    expect(() => loadEngineKeys(d, { BYOK_MASTER_KEY: Buffer.alloc(32).toString('base64') })).toThrow(ByokError);
  });
});
