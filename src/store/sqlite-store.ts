/**
 * The durable embedded KeyStore: SQLite through better-sqlite3, WAL with synchronous=FULL so a
 * write that returned is on disk, and BEGIN IMMEDIATE transactions for read-mutate-write so two
 * processes on one file serialise too. Schema migrations are versioned and idempotent.
 */
import Database from 'better-sqlite3';
import type { KeyOrigin, KeyState } from '../engine/types.js';
import type { MaterialSpec } from '../algorithms/specs.js';
import { ByokError } from '../errors.js';
import type { KeyMutation, KeyRecord, KeyStore } from './key-store.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE keys (
     key_id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     alias TEXT,
     description TEXT,
     origin TEXT NOT NULL,
     material_spec TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     commitment BLOB,
     stored_material BLOB,
     material_expires_at INTEGER, -- NULL: no material; -1: never expires
     deletion_date INTEGER
   );
   CREATE INDEX keys_by_tenant ON keys (tenant);
   CREATE TABLE token_usage (
     digest TEXT PRIMARY KEY,
     failures INTEGER NOT NULL DEFAULT 0,
     used INTEGER NOT NULL DEFAULT 0,
     expires_at INTEGER NOT NULL
   );`,
];

interface KeyRow {
  key_id: string; tenant: string; alias: string | null; description: string | null; origin: string;
  material_spec: string; state: string; created_at: number; commitment: Buffer | null;
  stored_material: Buffer | null; material_expires_at: number | null; deletion_date: number | null;
}

function fromRow(r: KeyRow): KeyRecord {
  return {
    keyId: r.key_id,
    tenant: r.tenant,
    ...(r.alias !== null ? { alias: r.alias } : {}),
    ...(r.description !== null ? { description: r.description } : {}),
    origin: r.origin as KeyOrigin,
    materialSpec: r.material_spec as MaterialSpec,
    state: r.state as KeyState,
    createdAt: r.created_at,
    ...(r.commitment ? { commitment: new Uint8Array(r.commitment) } : {}),
    ...(r.stored_material ? { storedMaterial: new Uint8Array(r.stored_material) } : {}),
    ...(r.material_expires_at !== null ? { materialExpiresAt: r.material_expires_at === -1 ? null : r.material_expires_at } : {}),
    ...(r.deletion_date !== null ? { deletionDate: r.deletion_date } : {}),
  };
}

function toParams(k: KeyRecord) {
  return {
    key_id: k.keyId, tenant: k.tenant, alias: k.alias ?? null, description: k.description ?? null,
    origin: k.origin, material_spec: k.materialSpec, state: k.state, created_at: k.createdAt,
    commitment: k.commitment ? Buffer.from(k.commitment) : null,
    stored_material: k.storedMaterial ? Buffer.from(k.storedMaterial) : null,
    material_expires_at: k.materialExpiresAt === undefined ? null : k.materialExpiresAt === null ? -1 : k.materialExpiresAt,
    deletion_date: k.deletionDate ?? null,
  };
}

export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;
  private readonly stmts;

  /** @param busyTimeoutMs how long a write waits for another writer's lock before STORE_UNAVAILABLE. */
  constructor(path: string, busyTimeoutMs = 10_000) {
    try {
      this.db = new Database(path);
    } catch {
      throw new ByokError('STORE_UNAVAILABLE', 'The key store file could not be opened.');
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    this.migrate();
    const cols = 'key_id, tenant, alias, description, origin, material_spec, state, created_at, commitment, stored_material, material_expires_at, deletion_date';
    const vals = cols.split(', ').map((c) => '@' + c).join(', ');
    this.stmts = {
      insert: this.db.prepare(`INSERT INTO keys (${cols}) VALUES (${vals})`),
      get: this.db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE key_id = ?'),
      list: this.db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE tenant = ? ORDER BY created_at, key_id'),
      update: this.db.prepare(`UPDATE keys SET ${cols.split(', ').slice(1).map((c) => `${c} = @${c}`).join(', ')} WHERE key_id = @key_id`),
      delete: this.db.prepare('DELETE FROM keys WHERE key_id = ?'),
      tokenGet: this.db.prepare<[string], { failures: number; used: number }>('SELECT failures, used FROM token_usage WHERE digest = ?'),
      tokenFail: this.db.prepare(`INSERT INTO token_usage (digest, failures, expires_at) VALUES (?, 1, ?)
                                  ON CONFLICT (digest) DO UPDATE SET failures = failures + 1 RETURNING failures`),
      // One statement: the insert-or-increment only happens below the budget (changes = 1).
      tokenReserve: this.db.prepare(`INSERT INTO token_usage (digest, failures, expires_at) SELECT @digest, 1, @expires WHERE @budget >= 1
                                     ON CONFLICT (digest) DO UPDATE SET failures = failures + 1 WHERE failures < @budget`),
      tokenRelease: this.db.prepare('UPDATE token_usage SET failures = failures - 1 WHERE digest = ? AND failures > 0'),
      tokenUse: this.db.prepare(`INSERT INTO token_usage (digest, used, expires_at) VALUES (?, 1, ?)
                                 ON CONFLICT (digest) DO UPDATE SET used = 1 WHERE used = 0`),
      tokenPrune: this.db.prepare('DELETE FROM token_usage WHERE expires_at < ?'),
    };
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const apply = this.db.transaction(() => {
      const row = this.db.prepare<[], { version: number }>('SELECT version FROM schema_version').get();
      let version = row?.version ?? 0;
      if (!row) this.db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
      for (; version < MIGRATIONS.length; version++) this.db.exec(MIGRATIONS[version]);
      this.db.prepare('UPDATE schema_version SET version = ?').run(version);
    });
    apply.immediate();
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ByokError) throw e;
      throw new ByokError('STORE_UNAVAILABLE');
    }
  }

  async createKey(record: KeyRecord): Promise<void> {
    this.run(() => this.stmts.insert.run(toParams(record)));
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const row = this.run(() => this.stmts.get.get(keyId));
    return row && fromRow(row);
  }

  async listKeys(tenant: string): Promise<KeyRecord[]> {
    return this.run(() => this.stmts.list.all(tenant)).map(fromRow);
  }

  async updateKey(keyId: string, mutate: KeyMutation): Promise<KeyRecord | undefined> {
    const tx = this.db.transaction((): KeyRecord | undefined => {
      const row = this.stmts.get.get(keyId);
      if (!row) return undefined;
      const next = mutate(fromRow(row));
      this.stmts.update.run(toParams({ ...next, keyId }));
      return next;
    });
    return this.run(() => tx.immediate());
  }

  async deleteKey(keyId: string): Promise<void> {
    this.run(() => this.stmts.delete.run(keyId));
  }

  async tokenFailures(digest: string): Promise<number> {
    return this.run(() => this.stmts.tokenGet.get(digest))?.failures ?? 0;
  }

  async addTokenFailure(digest: string, expiresAt: number): Promise<number> {
    return this.run(() => (this.stmts.tokenFail.get(digest, expiresAt) as { failures: number }).failures);
  }

  async reserveTokenAttempt(digest: string, expiresAt: number, budget: number): Promise<boolean> {
    return this.run(() => this.stmts.tokenReserve.run({ digest, expires: expiresAt, budget }).changes === 1);
  }

  async releaseTokenAttempt(digest: string): Promise<void> {
    this.run(() => this.stmts.tokenRelease.run(digest));
  }

  async consumeToken(digest: string, expiresAt: number): Promise<boolean> {
    return this.run(() => this.stmts.tokenUse.run(digest, expiresAt).changes === 1);
  }

  async pruneTokens(nowSeconds: number): Promise<number> {
    return this.run(() => this.stmts.tokenPrune.run(nowSeconds).changes);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
