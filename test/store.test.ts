/**
 * One suite for every KeyStore (memory, SQLite, PostgreSQL): atomic mutations, token counters,
 * durability of the SQLite file, PostgreSQL migrations and row locks across connections.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { engineKeysFromEnv, generateEngineKeys, loadEngineKeys, readEngineKeysFile, rotateEngineKey, writeEngineKeysFile } from '../src/config/key-files.js';
import { openEngine } from '../src/open-engine.js';
import { ByokError } from '../src/errors.js';
import type { KeyRecord, KeyStore } from '../src/store/key-store.js';
import { MemoryKeyStore } from '../src/store/memory-store.js';
import { SqliteKeyStore } from '../src/store/sqlite-store.js';
import { PostgresKeyStore } from '../src/store/postgres-store.js';
import { POSTGRES_MIGRATIONS } from '../src/store/migrations/postgres.js';
import { startPgCluster } from './helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-store-'));
// Started while collecting, so the PostgreSQL suite can be listed or skipped with its reason.
const pgCluster = startPgCluster();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (!('skip' in pgCluster)) pgCluster.destroy();
});
if ('skip' in pgCluster) it.skip(`postgres key store: ${pgCluster.skip}`, () => undefined);
const pgStores = 'skip' in pgCluster ? [] : [{
  name: 'postgres',
  // A fresh database per store, as SQLite gets a fresh file.
  open: async (): Promise<KeyStore> => PostgresKeyStore.connect(await pgCluster.createDatabase()),
}];

const record = (keyId: string): KeyRecord => ({ keyId, tenant: 't', origin: 'EXTERNAL', materialSpec: 'AES_256', state: 'PendingImport', createdAt: 1 });

describe.each([
  { name: 'memory', open: async (): Promise<KeyStore> => new MemoryKeyStore() },
  { name: 'sqlite', open: async (): Promise<KeyStore> => new SqliteKeyStore(join(dir, `s-${Math.random()}.sqlite`)) },
  ...pgStores,
])('$name key store', ({ open }) => {
  it('creates, reads, lists and round-trips every field (null vs undefined expiry too)', async () => {
    const s = await open();
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

  it('aliases: unique per tenant, several per key, listed by name, removed with their key', async () => {
    const s = await open();
    await s.createKey(record('k1'));
    await s.createKey(record('k2'));
    const alias = (tenant: string, aliasName: string, keyId: string) => ({ tenant, aliasName, keyId, createdAt: 7 });
    expect(await s.createAlias(alias('t', 'alias/b', 'k1'))).toBe(true);
    expect(await s.createAlias(alias('t', 'alias/a', 'k1'))).toBe(true);
    expect(await s.createAlias(alias('t', 'alias/c', 'k2'))).toBe(true);
    // Taken in this tenant (whatever the target), free in another.
    expect(await s.createAlias(alias('t', 'alias/a', 'k2'))).toBe(false);
    expect(await s.createAlias(alias('u', 'alias/a', 'k2'))).toBe(true);
    expect(await s.getAlias('t', 'alias/a')).toEqual(alias('t', 'alias/a', 'k1'));
    expect(await s.getAlias('v', 'alias/a')).toBeUndefined();
    expect((await s.listAliases('t')).map((a) => `${a.aliasName}>${a.keyId}`)).toEqual(['alias/a>k1', 'alias/b>k1', 'alias/c>k2']);
    expect(await s.deleteAlias('t', 'alias/b')).toBe(true);
    expect(await s.deleteAlias('t', 'alias/b')).toBe(false);
    await s.deleteKey('k1');
    expect((await s.listAliases('t')).map((a) => a.aliasName)).toEqual(['alias/c']);
    expect(await s.getAlias('u', 'alias/a')).toEqual(alias('u', 'alias/a', 'k2'));
    await s.close();
  });

  it('a mutation that throws writes nothing', async () => {
    const s = await open();
    await s.createKey(record('k'));
    await expect(s.updateKey('k', () => { throw new ByokError('KEY_MATERIAL_MISMATCH'); })).rejects.toMatchObject({ code: 'KEY_MATERIAL_MISMATCH' });
    expect(await s.getKey('k')).toEqual(record('k'));
    expect(await s.updateKey('missing', (c) => c)).toBeUndefined();
    const next = await s.updateKey('k', (c) => ({ ...c, state: 'Enabled', commitment: new Uint8Array([9]) }));
    expect(next?.state).toBe('Enabled');
    expect((await s.getKey('k'))?.state).toBe('Enabled');
    await s.close();
  });

  it('a commitment is write-once: a change or a clear is refused (INTERNAL_ERROR) and writes nothing', async () => {
    const s = await open();
    await s.createKey({ ...record('w'), commitment: new Uint8Array([1]) });
    await expect(s.updateKey('w', (c) => ({ ...c, state: 'Enabled', commitment: new Uint8Array([2]) }))).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    await expect(s.commitImport('w', (c) => ({ ...c, state: 'Enabled', commitment: undefined }), 'd')).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    expect(await s.getKey('w')).toMatchObject({ state: 'PendingImport', commitment: new Uint8Array([1]) });
    // The same commitment again is fine, and a key without one takes its first.
    expect(await s.updateKey('w', (c) => ({ ...c, state: 'Enabled', commitment: new Uint8Array([1]) }))).toMatchObject({ state: 'Enabled' });
    await s.createKey(record('v'));
    expect((await s.updateKey('v', (c) => ({ ...c, commitment: new Uint8Array([3]) })))?.commitment).toEqual(new Uint8Array([3]));
    await s.close();
  });

  it('counts token failures, consumes single-use tokens once, prunes expired rows', async () => {
    const s = await open();
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

  it('reserves token attempts atomically up to the budget and gives them back', async () => {
    const s = await open();
    const got = await Promise.all(Array.from({ length: 5 }, () => s.reserveTokenAttempt('r', 100, 3)));
    expect(got.filter(Boolean)).toHaveLength(3);
    expect(await s.tokenFailures('r')).toBe(3);
    await s.releaseTokenAttempt('r');
    expect(await s.tokenFailures('r')).toBe(2);
    expect(await s.reserveTokenAttempt('r', 100, 3)).toBe(true);
    expect(await s.reserveTokenAttempt('r', 100, 3)).toBe(false);
    // Failures recorded the old way count against the same budget; release never goes below 0.
    expect(await s.addTokenFailure('f', 100)).toBe(1);
    expect(await s.reserveTokenAttempt('f', 100, 1)).toBe(false);
    await s.releaseTokenAttempt('f');
    await s.releaseTokenAttempt('f');
    await s.releaseTokenAttempt('nothing');
    expect(await s.tokenFailures('f')).toBe(0);
    expect(await s.reserveTokenAttempt('g', 100, 0)).toBe(false);
    expect(await s.tokenFailures('g')).toBe(0);
    await s.close();
  });

  it('commits an import and gives its attempt back in one transaction; a refused or missing key writes nothing', async () => {
    const s = await open();
    await s.createKey(record('k'));
    expect(await s.reserveTokenAttempt('c', 100, 3)).toBe(true);
    expect(await s.reserveTokenAttempt('c', 100, 3)).toBe(true);
    const committed = await s.commitImport('k', (cur) => ({ ...cur, state: 'Enabled', commitment: new Uint8Array([7]) }), 'c');
    expect(committed).toMatchObject({ keyId: 'k', state: 'Enabled' });
    expect(await s.getKey('k')).toMatchObject({ state: 'Enabled' });
    expect(await s.tokenFailures('c')).toBe(1);
    // A mutation that throws (a mismatch): neither the key nor the counter changes.
    await expect(s.commitImport('k', () => { throw new ByokError('KEY_MATERIAL_MISMATCH'); }, 'c')).rejects.toMatchObject({ code: 'KEY_MATERIAL_MISMATCH' });
    expect(await s.tokenFailures('c')).toBe(1);
    expect([...(await s.getKey('k'))!.commitment!]).toEqual([7]);
    // No such key: undefined, and the attempt stays counted.
    expect(await s.commitImport('missing', (cur) => cur, 'c')).toBeUndefined();
    expect(await s.tokenFailures('c')).toBe(1);
    // Never below zero, and a token without a row is fine.
    await s.commitImport('k', (cur) => cur, 'c');
    await s.commitImport('k', (cur) => cur, 'c');
    await s.commitImport('k', (cur) => cur, 'no-row');
    expect(await s.tokenFailures('c')).toBe(0);
    expect(await s.tokenFailures('no-row')).toBe(0);
    await s.close();
  });

  it('racing first imports through commitImport: one sets the commitment, each success gives back its own attempt', async () => {
    const s = await open();
    await s.createKey(record('r'));
    const firstImport = (mine: number) => (cur: KeyRecord): KeyRecord => {
      if (cur.commitment && cur.commitment[0] !== mine) throw new ByokError('KEY_MATERIAL_MISMATCH');
      return { ...cur, state: 'Enabled', commitment: cur.commitment ?? new Uint8Array([mine]) };
    };
    const tries = [1, 2, 1, 2, 1, 2];
    for (const [i] of tries.entries()) expect(await s.reserveTokenAttempt(`t${i}`, 100, 1)).toBe(true);
    const results = await Promise.allSettled(tries.map((m, i) => s.commitImport('r', firstImport(m), `t${i}`)));
    const winner = (await s.getKey('r'))!.commitment![0];
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe(tries[i] === winner ? 'fulfilled' : 'rejected');
      expect(await s.tokenFailures(`t${i}`)).toBe(tries[i] === winner ? 0 : 1);
    }
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

  it('the write-once commitment is the database\'s own rule: a trigger refuses any other writer too', async () => {
    const path = join(dir, 'trigger.sqlite');
    const s = new SqliteKeyStore(path);
    await s.createKey({ ...record('w'), commitment: new Uint8Array([1]) });
    await s.close();
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path);
    try {
      expect(() => db.prepare('UPDATE keys SET commitment = ? WHERE key_id = ?').run(Buffer.from([2]), 'w')).toThrow(/commitment is write-once/);
      expect(() => db.prepare('UPDATE keys SET commitment = NULL WHERE key_id = ?').run('w')).toThrow(/commitment is write-once/);
      expect(db.prepare('UPDATE keys SET state = ?, commitment = ? WHERE key_id = ?').run('Enabled', Buffer.from([1]), 'w').changes).toBe(1);
    } finally {
      db.close();
    }
  });

  it('creates the keys file once, with mode 0600, and reads the same keys back', () => {
    const d = join(dir, 'data');
    const k1 = loadEngineKeys(d, {});
    expect(statSync(join(d, 'keys.json')).mode & 0o777).toBe(0o600);
    const k2 = loadEngineKeys(d, {});
    expect(Buffer.from(k2.commitment)).toEqual(Buffer.from(k1.commitment));
    expect(k2.master[0].id).toBe('mk1');
    expect(() => loadEngineKeys(d, { BYOK_MASTER_KEY: Buffer.alloc(32).toString('base64') })).toThrow(ByokError);
    // Created through a temp file that is linked into place, then removed: nothing left behind.
    expect(readdirSync(d)).toEqual(['keys.json']);
  });

  it('writeEngineKeysFile creates the file once (0600) and never overwrites it; no env keys is undefined', () => {
    const d = join(dir, 'written');
    expect(readEngineKeysFile(d)).toBeUndefined();
    const mine = generateEngineKeys();
    expect(Buffer.from(writeEngineKeysFile(d, mine).commitment)).toEqual(Buffer.from(mine.commitment));
    expect(statSync(join(d, 'keys.json')).mode & 0o777).toBe(0o600);
    // A second writer (another process that raced us) gets the keys already on disk.
    expect(Buffer.from(writeEngineKeysFile(d, generateEngineKeys()).commitment)).toEqual(Buffer.from(mine.commitment));
    expect(Buffer.from(readEngineKeysFile(d)!.master[0].key)).toEqual(Buffer.from(mine.master[0].key));
    expect(readdirSync(d)).toEqual(['keys.json']);
    expect(engineKeysFromEnv({})).toBeUndefined();
    expect(() => engineKeysFromEnv({ BYOK_COMMITMENT_KEY: Buffer.alloc(32).toString('base64') })).toThrow(/together/);
  });

  it('refuses a keys file that group or others can read, and one with repeated key IDs', () => {
    const d = join(dir, 'loose');
    loadEngineKeys(d, {});
    chmodSync(join(d, 'keys.json'), 0o644);
    expect(() => loadEngineKeys(d, {})).toThrow(/chmod 600/);
    const k = Buffer.alloc(32, 1).toString('base64');
    writeFileSync(join(d, 'keys.json'), JSON.stringify({ version: 1, master: [{ id: 'a', key: k }, { id: 'a', key: k }], tokenSealing: [{ id: 't', key: k }], commitment: k }), { mode: 0o600 });
    chmodSync(join(d, 'keys.json'), 0o600);
    expect(() => loadEngineKeys(d, {})).toThrow(/duplicate key ID/);
  });

  it('environment keys with IDs and previous keys (rotation without a file)', () => {
    const b = (n: number) => Buffer.alloc(32, n).toString('base64');
    const keys = loadEngineKeys(join(dir, 'unused'), {
      BYOK_MASTER_KEY: b(1), BYOK_TOKEN_SEALING_KEY: b(2), BYOK_COMMITMENT_KEY: b(3),
      BYOK_MASTER_KEY_ID: 'mk2', BYOK_PREVIOUS_MASTER_KEYS: `mk1:${b(4)}`, BYOK_PREVIOUS_TOKEN_SEALING_KEYS: `tk0:${b(5)}, tk-1:${b(6)}`,
    });
    expect(keys.master.map((k) => [k.id, k.key[0]])).toEqual([['mk2', 1], ['mk1', 4]]);
    expect(keys.tokenSealing.map((k) => [k.id, k.key[0]])).toEqual([['env', 2], ['tk0', 5], ['tk-1', 6]]);
    expect(() => loadEngineKeys(dir, { BYOK_MASTER_KEY: b(1), BYOK_TOKEN_SEALING_KEY: b(2), BYOK_COMMITMENT_KEY: b(3), BYOK_PREVIOUS_MASTER_KEYS: 'nokey' })).toThrow(ByokError);
    expect(() => loadEngineKeys(dir, { BYOK_MASTER_KEY: b(1), BYOK_TOKEN_SEALING_KEY: b(2), BYOK_COMMITMENT_KEY: b(3), BYOK_PREVIOUS_MASTER_KEYS: `env:${b(4)}` })).toThrow(/duplicate/);
  });

  it('rotation of the master and token-sealing keys: old tokens and old material keep working', async () => {
    const d = join(dir, 'rotate');
    const first = await openEngine({ dataDir: d });
    const kms = await first.createKey({ tenant: 't', origin: 'KMS' });
    const { ciphertextBlob } = await first.encrypt({ tenant: 't', keyId: kms.keyId, plaintext: new Uint8Array([1, 2, 3]) });
    const ext = await first.createKey({ tenant: 't' });
    const params = await first.getParametersForImport({ tenant: 't', keyId: ext.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
    await first.close();

    expect(rotateEngineKey(d, 'master')).toBe('mk2');
    expect(rotateEngineKey(d, 'tokenSealing')).toBe('tk2');
    expect(statSync(join(d, 'keys.json')).mode & 0o777).toBe(0o600);
    expect(loadEngineKeys(d, {}).master.map((k) => k.id)).toEqual(['mk2', 'mk1']);

    const second = await openEngine({ dataDir: d });
    try {
      expect([...(await second.decrypt({ tenant: 't', ciphertextBlob })).plaintext]).toEqual([1, 2, 3]);
      const { publicEncrypt, createPublicKey, constants, randomBytes } = await import('node:crypto');
      const wrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(params.publicKey, 'base64'), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
      expect((await second.importKeyMaterial({ tenant: 't', keyId: ext.keyId, importToken: params.importToken, encryptedKeyMaterial: new Uint8Array(wrapped) })).state).toBe('Enabled');
      const fresh = await second.getParametersForImport({ tenant: 't', keyId: ext.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
      expect(Buffer.from(fresh.importToken, 'base64').subarray(2, 5).toString()).toBe('tk2');
    } finally {
      await second.close();
    }
    // The material imported after the rotation is sealed under mk2 (its blob names the key).
    const store = new SqliteKeyStore(join(d, 'byok.sqlite'));
    const sealed = (await store.getKey(ext.keyId))!.storedMaterial!;
    expect(Buffer.from(sealed.subarray(2, 2 + sealed[1])).toString()).toBe('mk2');
    await store.close();
  });
});

describe.skipIf('skip' in pgCluster)('PostgreSQL store across connections (several instances)', () => {
  const cluster = pgCluster as Exclude<typeof pgCluster, { skip: string }>;
  const commit = (n: number) => new Uint8Array(32).fill(n);

  it('migrations: two instances starting together apply each version once; re-running is a no-op', async () => {
    const url = await cluster.createDatabase();
    const [a, b] = await Promise.all([PostgresKeyStore.connect(url), PostgresKeyStore.connect(url)]);
    const c = await PostgresKeyStore.connect(url);
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM byok_schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    } finally {
      await client.end();
    }
    await Promise.all([a.close(), b.close(), c.close()]);
    // A schema newer than this build: refuse to run on it.
    await expect(PostgresKeyStore.connect(url, { migrations: POSTGRES_MIGRATIONS.slice(0, 1) })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: /newer than this build/ });
  });

  it('first imports racing through two pools: the row lock gives exactly one winner per key', async () => {
    const url = await cluster.createDatabase();
    const [a, b] = await Promise.all([PostgresKeyStore.connect(url), PostgresKeyStore.connect(url)]);
    // The engine's compare-and-set: set the commitment if absent, else it must match.
    const firstImport = (mine: Uint8Array) => (cur: KeyRecord): KeyRecord => {
      if (cur.commitment && Buffer.compare(Buffer.from(cur.commitment), Buffer.from(mine)) !== 0) throw new ByokError('KEY_MATERIAL_MISMATCH');
      return { ...cur, state: 'Enabled', commitment: cur.commitment ?? mine, storedMaterial: mine };
    };
    const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    await Promise.all(ids.map((id) => a.createKey(record(id))));
    const results = await Promise.all(ids.map((id) => Promise.allSettled([a.updateKey(id, firstImport(commit(1))), b.updateKey(id, firstImport(commit(2)))])));
    for (const [i, pair] of results.entries()) {
      const won = pair.filter((r) => r.status === 'fulfilled');
      const lost = pair.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.map((r) => r.reason.code)).toEqual(['KEY_MATERIAL_MISMATCH']);
      const winner = pair[0].status === 'fulfilled' ? 1 : 2;
      expect((await b.getKey(ids[i]))!.commitment![0]).toBe(winner);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('a commitment is write-once in the database itself', async () => {
    const s = await PostgresKeyStore.connect(await cluster.createDatabase());
    await s.createKey({ ...record('w'), commitment: commit(1) });
    await expect(s.updateKey('w', (c) => ({ ...c, commitment: commit(2) }))).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    await expect(s.updateKey('w', (c) => ({ ...c, commitment: undefined }))).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    expect((await s.getKey('w'))!.commitment![0]).toBe(1);
    await s.close();
  });

  it('token attempts reserved from two pools never overshoot the budget', async () => {
    const url = await cluster.createDatabase();
    const [a, b] = await Promise.all([PostgresKeyStore.connect(url), PostgresKeyStore.connect(url)]);
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserveTokenAttempt('shared', 100, 10)));
    expect(got.filter(Boolean)).toHaveLength(10);
    expect(await a.tokenFailures('shared')).toBe(10);
    expect(await b.consumeToken('once', 100)).toBe(true);
    expect(await a.consumeToken('once', 100)).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });

  it('an unreachable database is STORE_UNAVAILABLE at start, with the cause code and without the password', async () => {
    const err = await PostgresKeyStore.connect(`postgresql://postgres:s3cret@localhost/nope?host=${encodeURIComponent(cluster.dir)}-missing`, { connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', message: /^The PostgreSQL key store at postgresql:\/\/postgres:\*\*\*@localhost\/nope.* could not be reached or migrated \(ENOENT\)\.$/ });
    expect((err as Error).message).not.toMatch(/s3cret/);
    // Reachable server, missing database: the SQLSTATE says which.
    await expect(PostgresKeyStore.connect(cluster.url('no_such_db'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: /\(3D000\)/ });
  });

  it('openEngine with a postgres:// URL: the whole life cycle, and two engines on one database agree', async () => {
    const url = await cluster.createDatabase();
    const keys = loadEngineKeys(join(dir, 'pg-engine'), {});
    const e1 = await openEngine({ dataDir: join(dir, 'pg-engine'), keys, store: url as `postgresql://${string}` });
    const e2 = await openEngine({ dataDir: join(dir, 'pg-engine-2'), keys, store: url as `postgresql://${string}` });
    const { publicEncrypt, createPublicKey, constants, randomBytes } = await import('node:crypto');
    const importWith = async (e: typeof e1, keyId: string, material: Buffer) => {
      const p = await e.getParametersForImport({ tenant: 't', keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
      const key = createPublicKey({ key: Buffer.from(p.publicKey, 'base64'), format: 'der', type: 'spki' });
      return e.importKeyMaterial({ tenant: 't', keyId, importToken: p.importToken, encryptedKeyMaterial: new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material)) });
    };
    try {
      const { keyId } = await e1.createKey({ tenant: 't', origin: 'EXTERNAL' });
      const material = randomBytes(32);
      expect((await importWith(e2, keyId, material)).state).toBe('Enabled');
      const { ciphertextBlob } = await e1.encrypt({ tenant: 't', keyId, plaintext: new Uint8Array([4, 2]) });
      expect([...(await e2.decrypt({ tenant: 't', ciphertextBlob })).plaintext]).toEqual([4, 2]);
      expect((await e2.disableKey({ tenant: 't', keyId })).state).toBe('Disabled');
      expect((await e1.describeKey({ tenant: 't', keyId })).state).toBe('Disabled');
      expect((await e1.enableKey({ tenant: 't', keyId })).state).toBe('Enabled');
      expect((await e2.deleteKeyMaterial({ tenant: 't', keyId })).state).toBe('PendingImport');
      await expect(importWith(e1, keyId, randomBytes(32))).rejects.toMatchObject({ code: 'KEY_MATERIAL_MISMATCH' });
      expect((await importWith(e1, keyId, material)).state).toBe('Enabled');
      const scheduled = await e2.scheduleKeyDeletion({ tenant: 't', keyId, pendingDays: 7 });
      expect(scheduled).toMatchObject({ state: 'PendingDeletion', deletionDate: expect.any(Number) });
      expect((await e1.describeKey({ tenant: 't', keyId })).deletionDate).toBe(scheduled.deletionDate);
      expect((await e1.cancelKeyDeletion({ tenant: 't', keyId })).state).toBe('Disabled');
      expect((await e2.listKeys('t')).map((k) => k.keyId)).toEqual([keyId]);
    } finally {
      await Promise.all([e1.close(), e2.close()]);
    }
  });

  // Last: it stops the shared cluster for a moment.
  it('connection loss: STORE_UNAVAILABLE, nothing half-written, and recovery without reopening', async () => {
    const s = await PostgresKeyStore.connect(await cluster.createDatabase(), { connectTimeoutMs: 1000 });
    await s.createKey(record('o'));
    expect((await s.getKey('o'))?.state).toBe('PendingImport');
    cluster.stop();
    try {
      await expect(s.getKey('o')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(s.updateKey('o', (c) => ({ ...c, state: 'Enabled' }))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(s.reserveTokenAttempt('t', 100, 3)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      cluster.start();
    }
    expect(await s.getKey('o')).toEqual(record('o'));
    expect((await s.updateKey('o', (c) => ({ ...c, state: 'Enabled' })))?.state).toBe('Enabled');
    await s.close();
  });
});
