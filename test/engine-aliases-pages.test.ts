/**
 * Aliases (`alias/<name>` wherever a KeyRef is taken), paginated listKeys / listAliases and
 * generateRandom, on the memory and SQLite stores (the store suite covers PostgreSQL's table):
 * what AWS's CreateAlias / ListAliases / DeleteAlias / ListKeys / GenerateRandom rest on.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPureBackend } from '../src/backends/pure/pure-backend.js';
import { ManualClock } from '../src/clock.js';
import { ImportEngine } from '../src/engine/import-engine.js';
import { ByokError } from '../src/errors.js';
import type { KeyStore } from '../src/store/key-store.js';
import { MemoryKeyStore } from '../src/store/memory-store.js';
import { SqliteKeyStore } from '../src/store/sqlite-store.js';

const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
const dir = mkdtempSync(join(tmpdir(), 'byok-aliases-'));
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

async function expectCode(p: Promise<unknown>, code: ByokError['code'], message?: RegExp) {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, `expected ${code}`).toBeInstanceOf(ByokError);
  expect((e as ByokError).code).toBe(code);
  if (message) expect((e as ByokError).message).toMatch(message);
}

describe.each([
  { name: 'memory', open: (): KeyStore => new MemoryKeyStore() },
  { name: 'sqlite', open: (): KeyStore => new SqliteKeyStore(join(dir, `${randomBytes(4).toString('hex')}.sqlite`)) },
])('engine on the $name store', ({ open }) => {
  const clock = new ManualClock(Date.UTC(2026, 11, 1));
  const store = open();
  const engine = new ImportEngine({
    backend, store, clock, tokenSealingKeys: [{ id: 'tk1', key: new Uint8Array(randomBytes(32)) }], commitmentKey: new Uint8Array(randomBytes(32)),
  });
  afterAll(() => store.close());

  it('an alias names its key wherever a key ID is taken; unique per tenant, several per key, invisible to another tenant', async () => {
    const key = await engine.createKey({ tenant: 'a', origin: 'KMS' });
    const other = await engine.createKey({ tenant: 'a', origin: 'KMS' });
    expect(await engine.createAlias({ tenant: 'a', aliasName: 'alias/app/db', keyId: key.keyId })).toEqual({ aliasName: 'alias/app/db', keyId: key.keyId, createdAt: clock.now() / 1000 });
    await engine.createAlias({ tenant: 'a', aliasName: 'alias/second', keyId: key.keyId });
    expect((await engine.describeKey({ tenant: 'a', keyId: 'alias/app/db' })).keyId).toBe(key.keyId);
    const plaintext = new Uint8Array(randomBytes(20));
    const { ciphertextBlob, keyId } = await engine.encrypt({ tenant: 'a', keyId: 'alias/second', plaintext });
    expect(keyId).toBe(key.keyId);
    expect(Buffer.from((await engine.decrypt({ tenant: 'a', ciphertextBlob, keyId: 'alias/app/db' })).plaintext)).toEqual(Buffer.from(plaintext));
    // Decrypt with an alias of another key: the blob names a different key.
    await engine.createAlias({ tenant: 'a', aliasName: 'alias/other', keyId: other.keyId });
    await expectCode(engine.decrypt({ tenant: 'a', ciphertextBlob, keyId: 'alias/other' }), 'CIPHERTEXT_INVALID');
    const dk = await engine.generateDataKey({ tenant: 'a', keyId: 'alias/app/db', withPlaintext: false });
    expect(dk.keyId).toBe(key.keyId);
    expect((await engine.reEncrypt({ tenant: 'a', ciphertextBlob: dk.ciphertextBlob, destinationKeyId: 'alias/other' })).keyId).toBe(other.keyId);

    await expectCode(engine.createAlias({ tenant: 'a', aliasName: 'alias/app/db', keyId: other.keyId }), 'ALIAS_EXISTS');
    await expectCode(engine.describeKey({ tenant: 'b', keyId: 'alias/app/db' }), 'KEY_NOT_FOUND', /alias does not exist/);
    await expectCode(engine.createAlias({ tenant: 'b', aliasName: 'alias/x', keyId: key.keyId }), 'KEY_NOT_FOUND');
    await engine.createAlias({ tenant: 'b', aliasName: 'alias/app/db', keyId: (await engine.createKey({ tenant: 'b', origin: 'KMS' })).keyId });
    expect((await engine.describeKey({ tenant: 'a', keyId: 'alias/app/db' })).keyId).toBe(key.keyId);
    for (const bad of ['app', 'alias/', 'alias/sp ace', 'alias/é', `alias/${'x'.repeat(251)}`, 'alias/aws/kms']) {
      await expectCode(engine.createAlias({ tenant: 'a', aliasName: bad, keyId: key.keyId }), 'INVALID_PARAMETER');
    }
    await expectCode(engine.createAlias({ tenant: 'a', aliasName: 'alias/chain', keyId: 'alias/app/db' }), 'INVALID_KEY_ID');
    await expectCode(engine.describeKey({ tenant: 'a', keyId: 'alias/no such' }), 'INVALID_PARAMETER');

    expect((await engine.listAliases({ tenant: 'a', keyId: key.keyId })).aliases.map((x) => x.aliasName)).toEqual(['alias/app/db', 'alias/second']);
    expect((await engine.listAliases({ tenant: 'a', keyId: 'alias/other' })).aliases.map((x) => x.aliasName)).toEqual(['alias/other']);
    await engine.deleteAlias({ tenant: 'a', aliasName: 'alias/second' });
    await expectCode(engine.deleteAlias({ tenant: 'a', aliasName: 'alias/second' }), 'KEY_NOT_FOUND');
    await expectCode(engine.encrypt({ tenant: 'a', keyId: 'alias/second', plaintext }), 'KEY_NOT_FOUND');
    expect((await engine.describeKey({ tenant: 'a', keyId: key.keyId })).state).toBe('Enabled');
  });

  it('a key deleted at its deletion date takes its aliases with it', async () => {
    const key = await engine.createKey({ tenant: 'd', origin: 'KMS' });
    await engine.createAlias({ tenant: 'd', aliasName: 'alias/doomed', keyId: key.keyId });
    await engine.scheduleKeyDeletion({ tenant: 'd', keyId: 'alias/doomed', pendingDays: 7 });
    clock.advance(7 * 86400 * 1000);
    await expectCode(engine.describeKey({ tenant: 'd', keyId: key.keyId }), 'KEY_NOT_FOUND');
    expect((await engine.listAliases({ tenant: 'd' })).aliases).toEqual([]);
    // The name is free again.
    await engine.createAlias({ tenant: 'd', aliasName: 'alias/doomed', keyId: (await engine.createKey({ tenant: 'd', origin: 'KMS' })).keyId });
  });

  it('listKeys pages by marker, oldest first, stable while keys are added; the array form stays', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await engine.createKey({ tenant: 'p' })).keyId);
      clock.advance(1000);
    }
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await engine.listKeys({ tenant: 'p', limit: 2, ...(marker !== undefined ? { marker } : {}) });
      expect(page.total).toBe(5 + (pages > 0 ? 1 : 0));
      seen.push(...page.keys.map((k) => k.keyId));
      expect(page.truncated).toBe(page.nextMarker !== undefined);
      marker = page.nextMarker;
      // A key added mid-walk comes last (newest), and nothing is seen twice.
      if (pages++ === 0) ids.push((await engine.createKey({ tenant: 'p' })).keyId);
    } while (marker !== undefined);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
    expect((await engine.listKeys('p')).map((k) => k.keyId)).toEqual(ids);
    expect((await engine.listKeys({ tenant: 'p' })).keys).toHaveLength(6);
    expect((await engine.listKeys({ tenant: 'nobody' }))).toEqual({ keys: [], truncated: false, total: 0 });
    for (const bad of [{ limit: 0 }, { limit: 1001 }, { limit: 2.5 }, { marker: 'not a marker!' }, { marker: '' }]) {
      await expectCode(engine.listKeys({ tenant: 'p', ...bad }), 'INVALID_PARAMETER');
    }
  });

  it('listAliases pages by name', async () => {
    const key = await engine.createKey({ tenant: 'q', origin: 'KMS' });
    for (const n of ['c', 'a', 'b', 'e', 'd']) await engine.createAlias({ tenant: 'q', aliasName: `alias/${n}`, keyId: key.keyId });
    const first = await engine.listAliases({ tenant: 'q', limit: 3 });
    expect(first.aliases.map((a) => a.aliasName)).toEqual(['alias/a', 'alias/b', 'alias/c']);
    expect(first.truncated).toBe(true);
    const second = await engine.listAliases({ tenant: 'q', limit: 3, marker: first.nextMarker! });
    expect(second).toMatchObject({ truncated: false, aliases: [{ aliasName: 'alias/d' }, { aliasName: 'alias/e' }] });
    expect(second.nextMarker).toBeUndefined();
  });
});

describe('generateRandom', () => {
  const engine = new ImportEngine({
    backend, store: new MemoryKeyStore(), tokenSealingKeys: [{ id: 'tk1', key: new Uint8Array(randomBytes(32)) }], commitmentKey: new Uint8Array(randomBytes(32)),
  });

  it('1..1024 bytes, fresh each time; anything else is INVALID_PARAMETER', async () => {
    expect(await engine.generateRandom(1)).toHaveLength(1);
    const [a, b] = [await engine.generateRandom(1024), await engine.generateRandom(1024)];
    expect(a).toHaveLength(1024);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    for (const bad of [0, 1025, 1.5, -1, Number.NaN, '16']) await expectCode(engine.generateRandom(bad as number), 'INVALID_PARAMETER');
  });
});
