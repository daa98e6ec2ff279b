/**
 * Engine keys bound to their store (issue 14, defect 1): the store records verifiers of the keys
 * at its first use; openEngine refuses keys that are not the store's, naming what differs, and
 * refuses to generate keys for a store that has been used (a lost keys.json used to be
 * regenerated silently, and every imported key was lost for good). Rotation still opens and
 * teaches the store the new IDs. SQLite and PostgreSQL, and the memory store.
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { generateEngineKeys, readEngineKeysFile, rotateEngineKey, type EngineKeys } from '../src/config/key-files.js';
import { engineKeyVerifiers } from '../src/engine/key-binding.js';
import type { Engine } from '../src/engine/types.js';
import { openEngine, type OpenEngineOptions } from '../src/open-engine.js';
import { MemoryKeyStore } from '../src/store/memory-store.js';
import { SqliteKeyStore } from '../src/store/sqlite-store.js';
import type { PostgresUrl } from '../src/store/store-url.js';
import { startPgCluster } from './helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-key-binding-'));
const pgCluster = startPgCluster();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (!('skip' in pgCluster)) pgCluster.destroy();
});
if ('skip' in pgCluster) it.skip(`postgres key binding: ${pgCluster.skip}`, () => undefined);
let n = 0;
const freshDir = () => join(dir, `d${++n}`);

/** Create an external key and import 32 random bytes into it; returns the key ID and a ciphertext under it. */
async function importKey(engine: Engine): Promise<{ keyId: string; ciphertextBlob: Uint8Array }> {
  const { keyId } = await engine.createKey({ tenant: 't' });
  const params = await engine.getParametersForImport({ tenant: 't', keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
  const key = createPublicKey({ key: Buffer.from(params.publicKey, 'base64'), format: 'der', type: 'spki' });
  const encryptedKeyMaterial = new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32)));
  expect((await engine.importKeyMaterial({ tenant: 't', keyId, importToken: params.importToken, encryptedKeyMaterial })).state).toBe('Enabled');
  const { ciphertextBlob } = await engine.encrypt({ tenant: 't', keyId, plaintext: new Uint8Array([4, 2]) });
  return { keyId, ciphertextBlob };
}

/** Open, prove the key still decrypts, close. */
async function stillWorks(options: OpenEngineOptions, imported: { ciphertextBlob: Uint8Array }): Promise<void> {
  const engine = await openEngine(options);
  try {
    expect([...(await engine.decrypt({ tenant: 't', ciphertextBlob: imported.ciphertextBlob })).plaintext]).toEqual([4, 2]);
  } finally {
    await engine.close();
  }
}

const otherKey = () => new Uint8Array(randomBytes(32));
/** `keys` with one part replaced. */
const withMaster = (keys: EngineKeys, master: EngineKeys['master']): EngineKeys => ({ ...keys, master });

describe('engine keys bound to the SQLite store', () => {
  it('first run on a new store creates keys.json; the next open uses it', async () => {
    const dataDir = freshDir();
    const first = await openEngine({ dataDir });
    const imported = await importKey(first);
    await first.close();
    expect(readEngineKeysFile(dataDir)).toBeDefined();
    await stillWorks({ dataDir }, imported);
  });

  it('an existing store whose keys.json is missing is refused, and no keys are generated; restored, it opens', async () => {
    const dataDir = freshDir();
    const first = await openEngine({ dataDir });
    const imported = await importKey(first);
    await first.close();
    renameSync(join(dataDir, 'keys.json'), join(dir, `backup-${n}.json`));
    await expect(openEngine({ dataDir })).rejects.toMatchObject({
      code: 'INVALID_PARAMETER', message: expect.stringMatching(/keys\.json is missing, and the key store has been used .*Restore the keys file from a backup/),
    });
    expect(existsSync(join(dataDir, 'keys.json'))).toBe(false);
    renameSync(join(dir, `backup-${n}.json`), join(dataDir, 'keys.json'));
    await stillWorks({ dataDir }, imported);
  });

  it('a store with keys but no verifiers yet (made before binding) is refused without keys.json too', async () => {
    const dataDir = freshDir();
    const first = await openEngine({ dataDir });
    await first.createKey({ tenant: 't' });
    await first.close();
    const db = new Database(join(dataDir, 'byok.sqlite'));
    db.exec('DELETE FROM engine_key_verifiers');
    db.close();
    rmSync(join(dataDir, 'keys.json'));
    await expect(openEngine({ dataDir })).rejects.toThrow(/keys\.json is missing/);
  });

  it('keys that are not the store\'s are refused, naming each part that differs', async () => {
    const dataDir = freshDir();
    const first = await openEngine({ dataDir });
    const imported = await importKey(first);
    await first.close();
    const keys = readEngineKeysFile(dataDir)!;
    // Completely new keys (what a regenerated keys.json would be).
    await expect(openEngine({ dataDir, keys: generateEngineKeys() })).rejects.toMatchObject({
      code: 'INVALID_PARAMETER',
      message: expect.stringMatching(/^The engine keys do not belong to this key store .*: the commitment key differs; master key mk1 differs; token-sealing key tk1 differs\./),
    });
    // One part at a time: only that part is named.
    const refusal = (k: EngineKeys) => openEngine({ dataDir, keys: k }).then(() => 'opened', (e: Error) => e.message.split(': ')[1].split('. ')[0]);
    expect(await refusal({ ...keys, commitment: otherKey() })).toBe('the commitment key differs');
    expect(await refusal(withMaster(keys, [{ id: 'mk1', key: otherKey() }]))).toBe('master key mk1 differs');
    expect(await refusal({ ...keys, tokenSealing: [{ id: 'tk1', key: otherKey() }] })).toBe('token-sealing key tk1 differs');
    expect(await refusal(withMaster(keys, [{ id: 'mk9', key: otherKey() }]))).toBe('master key mk1, which the store knows, is missing (material sealed under it could not be opened)');
    // Nothing of a refused set was learned: the right keys still open, and mk9 is still unknown.
    await stillWorks({ dataDir, keys }, imported);
    const db = new Database(join(dataDir, 'byok.sqlite'), { readonly: true });
    expect(db.prepare('SELECT role, key_id FROM engine_key_verifiers ORDER BY role, key_id').all()).toEqual([
      { role: 'commitment', key_id: '' }, { role: 'master', key_id: 'mk1' }, { role: 'token-sealing', key_id: 'tk1' },
    ]);
    db.close();
  });

  it('rotation (a new key first, the old ones kept) opens, and the store learns the new IDs', async () => {
    const dataDir = freshDir();
    const first = await openEngine({ dataDir });
    const imported = await importKey(first);
    await first.close();
    rotateEngineKey(dataDir, 'master');
    rotateEngineKey(dataDir, 'tokenSealing');
    await stillWorks({ dataDir }, imported);
    const keys = readEngineKeysFile(dataDir)!;
    expect(keys.master.map((k) => k.id)).toEqual(['mk2', 'mk1']);
    // Learned: another mk2 is now refused; dropping the old token-sealing key is fine (its tokens expire).
    await expect(openEngine({ dataDir, keys: withMaster(keys, [{ id: 'mk2', key: otherKey() }, keys.master[1]]) })).rejects.toThrow(/: master key mk2 differs\./);
    await stillWorks({ dataDir, keys: { ...keys, tokenSealing: keys.tokenSealing.slice(0, 1) } }, imported);
    // Dropping the old master key is refused: material sealed under mk1 would be lost.
    await expect(openEngine({ dataDir, keys: withMaster(keys, keys.master.slice(0, 1)) })).rejects.toThrow(/master key mk1, which the store knows, is missing/);
  });

  it('the store holds verifiers, never the keys', async () => {
    const dataDir = freshDir();
    await (await openEngine({ dataDir })).close();
    const keys = readEngineKeysFile(dataDir)!;
    const db = new Database(join(dataDir, 'byok.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT verifier FROM engine_key_verifiers').all() as Array<{ verifier: Buffer }>;
    db.close();
    const secrets = [keys.commitment, ...keys.master.map((k) => k.key), ...keys.tokenSealing.map((k) => k.key)].map((k) => Buffer.from(k));
    expect(rows.map((r) => r.verifier).sort(Buffer.compare)).toEqual(engineKeyVerifiers(keys).map((v) => Buffer.from(v.verifier)).sort(Buffer.compare));
    for (const r of rows) for (const s of secrets) expect(r.verifier.includes(s)).toBe(false);
  });
});

describe('engine keys bound to a store instance (memory)', () => {
  it('a store instance is bound to the first keys it is used with', async () => {
    const store = new MemoryKeyStore();
    const keys = generateEngineKeys();
    await (await openEngine({ store, keys })).close();
    await expect(openEngine({ store, keys: generateEngineKeys() })).rejects.toThrow(/the commitment key differs/);
    await (await openEngine({ store, keys })).close();
  });

  it('store: \'memory\' without keys makes fresh keys for its new store', async () => {
    const engine = await openEngine({ store: 'memory' });
    await importKey(engine);
    await engine.close();
  });
});

describe.skipIf('skip' in pgCluster)('engine keys bound to the PostgreSQL store', () => {
  const cluster = pgCluster as Exclude<typeof pgCluster, { skip: string }>;
  const database = async () => (await cluster.createDatabase()) as PostgresUrl;

  it('an instance without the shared keys (no keys.json of its own) is refused, and writes none', async () => {
    const store = await database();
    const first = await openEngine({ dataDir: freshDir(), store });
    const imported = await importKey(first);
    const sharedDir = join(dir, `d${n}`);
    await first.close();
    const stranger = freshDir();
    await expect(openEngine({ dataDir: stranger, store })).rejects.toThrow(/keys\.json is missing, and the key store has been used/);
    expect(existsSync(join(stranger, 'keys.json'))).toBe(false);
    await stillWorks({ dataDir: sharedDir, store }, imported);
  });

  it('other keys are refused naming what differs; rotation opens and is learned', async () => {
    const store = await database();
    const keys = generateEngineKeys();
    const first = await openEngine({ store, keys, dataDir: freshDir() });
    const imported = await importKey(first);
    await first.close();
    await expect(openEngine({ store, keys: generateEngineKeys() })).rejects.toThrow(/: the commitment key differs; master key mk1 differs; token-sealing key tk1 differs\./);
    await expect(openEngine({ store, keys: withMaster(keys, [{ id: 'mk1', key: otherKey() }]) })).rejects.toThrow(/: master key mk1 differs\./);
    const rotated = withMaster(keys, [{ id: 'mk2', key: otherKey() }, ...keys.master]);
    await stillWorks({ store, keys: rotated }, imported);
    await expect(openEngine({ store, keys: withMaster(keys, [{ id: 'mk2', key: otherKey() }, ...keys.master]) })).rejects.toThrow(/: master key mk2 differs\./);
  });

  it('two instances with different keys starting together on a new database: one binds it, the other is refused', async () => {
    const store = await database();
    const results = await Promise.allSettled([openEngine({ store, keys: generateEngineKeys() }), openEngine({ store, keys: generateEngineKeys() })]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    for (const r of results) {
      if (r.status === 'fulfilled') await r.value.close();
      else expect(r.reason).toMatchObject({ code: 'INVALID_PARAMETER', message: expect.stringMatching(/the commitment key differs/) });
    }
  });
});

describe('SQLite store files are private', () => {
  it('byok.sqlite and its -wal and -shm are 0600 in a directory someone else made 0755', async () => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { mode: 0o755 });
    const engine = await openEngine({ dataDir });
    await engine.createKey({ tenant: 't' });
    const files = readdirSync(dataDir).filter((f) => f.startsWith('byok.sqlite'));
    expect(files.sort()).toEqual(['byok.sqlite', 'byok.sqlite-shm', 'byok.sqlite-wal']);
    for (const f of [...files, 'keys.json']) expect([f, statSync(join(dataDir, f)).mode & 0o777]).toEqual([f, 0o600]);
    await engine.close();
    // The store on its own too.
    const path = join(dataDir, 'own.sqlite');
    const store = new SqliteKeyStore(path);
    await store.createKey({ keyId: 'k', tenant: 't', origin: 'EXTERNAL', materialSpec: 'AES_256', state: 'PendingImport', createdAt: 1 });
    for (const f of [path, `${path}-wal`, `${path}-shm`]) expect([f, statSync(f).mode & 0o777]).toEqual([f, 0o600]);
    await store.close();
  });
});
