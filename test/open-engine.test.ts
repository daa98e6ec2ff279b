/**
 * The composition root's rules: the engine closes only what openEngine created; a memory store
 * without keys writes nothing; keys.json is written only once the store has opened; importing
 * openEngine (and running on the memory store) loads neither better-sqlite3 nor pg.
 */
import { execFileSync } from 'node:child_process';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPureBackend } from '../src/backends/pure/pure-backend.js';
import { generateEngineKeys } from '../src/config/key-files.js';
import type { Engine } from '../src/engine/types.js';
import { openEngine } from '../src/open-engine.js';
import { MemoryKeyStore } from '../src/store/memory-store.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-open-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Create a key, import 32 bytes into it, and encrypt with it. */
async function importFlow(engine: Engine): Promise<void> {
  const { keyId } = await engine.createKey({ tenant: 't' });
  const params = await engine.getParametersForImport({ tenant: 't', keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
  const key = createPublicKey({ key: Buffer.from(params.publicKey, 'base64'), format: 'der', type: 'spki' });
  const encryptedKeyMaterial = new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32)));
  expect((await engine.importKeyMaterial({ tenant: 't', keyId, importToken: params.importToken, encryptedKeyMaterial })).state).toBe('Enabled');
  await engine.encrypt({ tenant: 't', keyId, plaintext: new Uint8Array([1]) });
}

describe('openEngine', () => {
  it('closes only what it created: a store and a backend passed in stay open, the caller\'s', async () => {
    const closed: string[] = [];
    const store = Object.assign(new MemoryKeyStore(), { close: async () => void closed.push('store') });
    const pure = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
    const backend = Object.assign(Object.create(pure) as typeof pure, { close: async () => void closed.push('backend') });
    const keys = generateEngineKeys();
    const engine = await openEngine({ store, backend, keys, wrappingKeyPoolDepth: 1 });
    await importFlow(engine);
    await engine.close();
    expect(closed).toEqual([]);
    // Both still work after the engine closed.
    expect(await store.listKeys('t')).toHaveLength(1);
    // The same keys: the store is bound to the keys it was first used with.
    const again = await openEngine({ store, backend, keys });
    expect(await again.listKeys('t')).toHaveLength(1);
    await again.close();
    await pure.close();
  });

  it('a memory store without keys writes nothing: keys are made in memory, dataDir is never created', async () => {
    const dataDir = join(dir, 'never-created');
    const cwdBefore = readdirSync('.').sort();
    const withDir = await openEngine({ store: 'memory', dataDir });
    const withoutDir = await openEngine({ store: 'memory' });
    await importFlow(withDir);
    await importFlow(withoutDir);
    await Promise.all([withDir.close(), withoutDir.close()]);
    expect(existsSync(dataDir)).toBe(false);
    expect(readdirSync('.').sort()).toEqual(cwdBefore);
  });

  it('a store that fails to open leaves no keys.json (SQLite and PostgreSQL)', async () => {
    // SQLite: byok.sqlite is a directory, so the store cannot open its file.
    const sqliteDir = join(dir, 'sqlite-fails');
    mkdirSync(join(sqliteDir, 'byok.sqlite'), { recursive: true });
    await expect(openEngine({ dataDir: sqliteDir })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(readdirSync(sqliteDir)).toEqual(['byok.sqlite']);
    // PostgreSQL: nothing listens on port 1.
    const pgDir = join(dir, 'pg-fails');
    await expect(openEngine({ dataDir: pgDir, store: 'postgresql://byok@127.0.0.1:1/none' })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(existsSync(join(pgDir, 'keys.json'))).toBe(false);
  });

  it('the default store: keys.json and byok.sqlite in dataDir, the same keys on the next open', async () => {
    const dataDir = join(dir, 'default');
    const first = await openEngine({ dataDir });
    await importFlow(first);
    await first.close();
    expect(readdirSync(dataDir).filter((f) => !f.startsWith('byok.sqlite-')).sort()).toEqual(['byok.sqlite', 'keys.json']);
    const second = await openEngine({ dataDir });
    expect(await second.listKeys('t')).toHaveLength(1);
    await second.close();
  });

  it('importing openEngine and running on the memory store loads neither better-sqlite3 nor pg (built dist)', () => {
    // A resolve hook that fails the process if either package is asked for.
    const hook = `data:text/javascript,${encodeURIComponent(
      'export async function resolve(s, c, next) { if (s === "better-sqlite3" || s === "pg") throw new Error("loaded " + s); return next(s, c); }',
    )}`;
    const script = `
      import { register } from 'node:module';
      register(${JSON.stringify(hook)});
      const { openEngine } = await import(${JSON.stringify(new URL('../dist/src/open-engine.js', import.meta.url).href)});
      const engine = await openEngine({ store: 'memory' });
      const key = await engine.createKey({ tenant: 't' });
      await engine.getParametersForImport({ tenant: 't', keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
      await engine.close();
      console.log('ok');`;
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe('ok');
  });
});
