/**
 * The shared KeyStore: PostgreSQL through a `pg` Pool, so several service instances share one key
 * space. Same semantics as the SQLite store: `updateKey` is one transaction around
 * `SELECT ... FOR UPDATE` (the row lock serialises read-mutate-write across processes, so of two
 * racing first imports exactly one sets the commitment), token counters are single statements,
 * migrations are versioned and applied at start-up under an advisory lock.
 *
 * Outages: every driver error becomes `STORE_UNAVAILABLE` (HTTP 503); a transaction that did not
 * commit is rolled back by the server, so nothing is half-written. The pool drops dead
 * connections and opens new ones, so the instance recovers when the database comes back.
 */
import pg from 'pg';
import { ByokError } from '../errors.js';
import type { AliasRecord, EngineKeyBinding, EngineKeyCheck, KeyMutation, KeyRecord, KeyStore } from './key-store.js';
import { aliasFromRow, KEY_COLUMNS, keyRecordFromRow, keyRowFromRecord, verifierFromRow, type AliasRow, type KeyRow, type VerifierRow } from './key-row.js';
import { POSTGRES_MIGRATIONS, type Migration } from './migrations/postgres.js';
import { inconsistentWrite } from './store-errors.js';
import { redactStoreUrl } from './store-url.js';

/** Pool and timeout settings of a PostgreSQL store. */
export interface PostgresStoreOptions {
  /** Connections per instance (default 10). */
  readonly poolSize?: number;
  /** How long a request waits for a connection before STORE_UNAVAILABLE (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Server-side bound on one statement, row-lock waits included (default 10 s, like SQLite's busy timeout). */
  readonly statementTimeoutMs?: number;
  /** Migrations to apply (default: the repository's); tests pass their own to check ordering. */
  readonly migrations?: readonly Migration[];
}

/** Any 64-bit number works: it only has to be the same in every instance (ASCII "byokmigr"). */
const MIGRATION_LOCK = '7022364638124804466';

/** Values in KEY_COLUMNS order, for the positional parameters. */
function toParams(k: KeyRecord): unknown[] {
  const row = keyRowFromRecord(k);
  return KEY_COLUMNS.map((c) => row[c]);
}

const SQL = {
  insert: `INSERT INTO byok_keys (${KEY_COLUMNS.join(', ')}) VALUES (${KEY_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
  get: 'SELECT * FROM byok_keys WHERE key_id = $1',
  getForUpdate: 'SELECT * FROM byok_keys WHERE key_id = $1 FOR UPDATE',
  list: 'SELECT * FROM byok_keys WHERE tenant = $1 ORDER BY created_at, key_id',
  update: `UPDATE byok_keys SET ${KEY_COLUMNS.slice(1).map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE key_id = $1`,
  delete: 'DELETE FROM byok_keys WHERE key_id = $1',
  deleteAliasesOf: 'DELETE FROM byok_aliases WHERE key_id = $1',
  aliasAdd: 'INSERT INTO byok_aliases (tenant, alias_name, key_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
  aliasGet: 'SELECT * FROM byok_aliases WHERE tenant = $1 AND alias_name = $2',
  aliasList: 'SELECT * FROM byok_aliases WHERE tenant = $1 ORDER BY alias_name COLLATE "C"',
  aliasDelete: 'DELETE FROM byok_aliases WHERE tenant = $1 AND alias_name = $2',
  tokenGet: 'SELECT failures FROM byok_token_usage WHERE digest = $1',
  tokenFail: `INSERT INTO byok_token_usage (digest, failures, expires_at) VALUES ($1, 1, $2)
              ON CONFLICT (digest) DO UPDATE SET failures = byok_token_usage.failures + 1 RETURNING failures`,
  // One statement: ON CONFLICT DO UPDATE locks the row and re-checks the budget on its latest
  // version, so concurrent reservations from any number of instances cannot overshoot.
  tokenReserve: `INSERT INTO byok_token_usage (digest, failures, expires_at) SELECT $1, 1, $2 WHERE $3::int >= 1
                 ON CONFLICT (digest) DO UPDATE SET failures = byok_token_usage.failures + 1 WHERE byok_token_usage.failures < $3::int`,
  tokenRelease: 'UPDATE byok_token_usage SET failures = failures - 1 WHERE digest = $1 AND failures > 0',
  tokenUse: `INSERT INTO byok_token_usage (digest, used, expires_at) VALUES ($1, true, $2)
             ON CONFLICT (digest) DO UPDATE SET used = true WHERE byok_token_usage.used = false`,
  tokenPrune: 'DELETE FROM byok_token_usage WHERE expires_at < $1',
  // Self-conflicting: instances binding at once take turns, while reads of the table go on.
  verifiersLock: 'LOCK TABLE byok_engine_key_verifiers IN SHARE ROW EXCLUSIVE MODE',
  verifiers: 'SELECT role, key_id, verifier FROM byok_engine_key_verifiers ORDER BY role, key_id',
  verifierAdd: 'INSERT INTO byok_engine_key_verifiers (role, key_id, verifier) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
  holdsKeys: 'SELECT EXISTS (SELECT 1 FROM byok_keys) AS held',
} as const;

/**
 * Driver and server errors → a ByokError. Integrity violations (SQLSTATE class 23: a duplicate
 * key ID, the write-once commitment trigger) are our bug, not an outage; everything else
 * (refused or dropped connections, shutdown, timeouts) is STORE_UNAVAILABLE.
 */
function storeError(e: unknown): ByokError {
  if (e instanceof ByokError) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('23')) return inconsistentWrite(e);
  const mapped = new ByokError('STORE_UNAVAILABLE');
  // Kept for the operator (start-up line), never sent to a client: the wire shows code and message only.
  Object.defineProperty(mapped, 'cause', { value: e, enumerable: false });
  return mapped;
}

/** The driver's code (ECONNREFUSED, a SQLSTATE such as 28P01 or 3D000) behind a mapped error. */
function causeCode(e: unknown): string {
  const code = ((e as Error).cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? code : 'no code';
}

/** The shared KeyStore: PostgreSQL through a pg pool, so several instances share one key space. Open it with `PostgresKeyStore.connect(url)`. */
export class PostgresKeyStore implements KeyStore {
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  /** Connect, apply pending migrations, and return the store; STORE_UNAVAILABLE if unreachable. */
  static async connect(url: string, options: PostgresStoreOptions = {}): Promise<PostgresKeyStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      // Client side too: a partitioned server cannot cancel anything, and TCP alone may wait minutes.
      query_timeout: (options.statementTimeoutMs ?? 10_000) + 2_000,
      keepAlive: true,
      // A client that vanished mid-transaction (partition, not a clean close) must not hold row
      // locks forever; a crashed process's socket closes and the server rolls back at once anyway.
      idle_in_transaction_session_timeout: 30_000,
      application_name: 'byok',
    });
    // Idle clients see the server go away (shutdown, restart) as an 'error' event; without a
    // listener that would crash the process. The pool already discards them: nothing else to do.
    pool.on('error', () => undefined);
    const store = new PostgresKeyStore(pool);
    try {
      await store.migrate(options.migrations ?? POSTGRES_MIGRATIONS);
    } catch (e) {
      await pool.end().catch(() => undefined);
      if (e instanceof ByokError && e.message !== new ByokError(e.code).message) throw e; // already specific
      throw new ByokError('STORE_UNAVAILABLE', `The PostgreSQL key store at ${redactStoreUrl(url)} could not be reached or migrated (${causeCode(e)}).`);
    }
    return store;
  }

  /**
   * One transaction: the advisory lock makes instances that start together take turns, and
   * since DDL is transactional a failed migration leaves no trace. Idempotent: applied versions
   * are skipped.
   */
  private async migrate(migrations: readonly Migration[]): Promise<void> {
    migrations.forEach((m, i) => {
      if (m.version !== i + 1) throw new ByokError('INTERNAL_ERROR', `Migration ${i + 1} is numbered ${m.version}.`);
    });
    await this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
      await c.query(`CREATE TABLE IF NOT EXISTS byok_schema_migrations (
                       version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      const { rows } = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM byok_schema_migrations');
      const current = rows[0]?.v ?? 0;
      if (current > migrations.length) {
        // A newer instance migrated further: refuse rather than run on a schema we do not know.
        throw new ByokError('STORE_UNAVAILABLE', `The database schema (version ${current}) is newer than this build knows (${migrations.length}).`);
      }
      for (const m of migrations.slice(current)) {
        await c.query(m.sql);
        await c.query('INSERT INTO byok_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      }
    });
  }

  /** BEGIN … COMMIT on one pooled client; any failure rolls back and the error is mapped. */
  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw storeError(e);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is gone (the server rolls back on its own): do not pool it again.
        broken = rollbackError as Error;
      }
      throw storeError(e);
    } finally {
      client.release(broken);
    }
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (e) {
      throw storeError(e);
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1', []);
  }

  async createKey(record: KeyRecord): Promise<void> {
    await this.query(SQL.insert, toParams(record));
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const { rows } = await this.query<KeyRow>(SQL.get, [keyId]);
    return rows[0] && keyRecordFromRow(rows[0]);
  }

  async listKeys(tenant: string): Promise<KeyRecord[]> {
    return (await this.query<KeyRow>(SQL.list, [tenant])).rows.map(keyRecordFromRow);
  }

  async updateKey(keyId: string, mutate: KeyMutation): Promise<KeyRecord | undefined> {
    return this.transaction((c) => this.mutateKey(c, keyId, mutate));
  }

  async commitImport(keyId: string, mutate: KeyMutation, tokenDigest: string): Promise<KeyRecord | undefined> {
    return this.transaction(async (c) => {
      const next = await this.mutateKey(c, keyId, mutate);
      if (next) await c.query(SQL.tokenRelease, [tokenDigest]);
      return next;
    });
  }

  /** Read-mutate-write inside the caller's transaction. */
  private async mutateKey(c: pg.PoolClient, keyId: string, mutate: KeyMutation): Promise<KeyRecord | undefined> {
    // The row lock: a concurrent updater in any instance waits here, then reads our commit.
    const { rows } = await c.query<KeyRow>(SQL.getForUpdate, [keyId]);
    if (!rows[0]) return undefined;
    const next = mutate(keyRecordFromRow(rows[0]));
    await c.query(SQL.update, toParams({ ...next, keyId }));
    return next;
  }

  async deleteKey(keyId: string): Promise<void> {
    await this.transaction(async (c) => {
      await c.query(SQL.delete, [keyId]);
      await c.query(SQL.deleteAliasesOf, [keyId]);
    });
  }

  async createAlias(a: AliasRecord): Promise<boolean> {
    return (await this.query(SQL.aliasAdd, [a.tenant, a.aliasName, a.keyId, a.createdAt])).rowCount === 1;
  }

  async getAlias(tenant: string, aliasName: string): Promise<AliasRecord | undefined> {
    const { rows } = await this.query<AliasRow>(SQL.aliasGet, [tenant, aliasName]);
    return rows[0] && aliasFromRow(rows[0]);
  }

  async listAliases(tenant: string): Promise<AliasRecord[]> {
    return (await this.query<AliasRow>(SQL.aliasList, [tenant])).rows.map(aliasFromRow);
  }

  async deleteAlias(tenant: string, aliasName: string): Promise<boolean> {
    return (await this.query(SQL.aliasDelete, [tenant, aliasName])).rowCount === 1;
  }

  async tokenFailures(digest: string): Promise<number> {
    return (await this.query<{ failures: number }>(SQL.tokenGet, [digest])).rows[0]?.failures ?? 0;
  }

  async addTokenFailure(digest: string, expiresAt: number): Promise<number> {
    return (await this.query<{ failures: number }>(SQL.tokenFail, [digest, expiresAt])).rows[0].failures;
  }

  async reserveTokenAttempt(digest: string, expiresAt: number, budget: number): Promise<boolean> {
    return (await this.query(SQL.tokenReserve, [digest, expiresAt, budget])).rowCount === 1;
  }

  async releaseTokenAttempt(digest: string): Promise<void> {
    await this.query(SQL.tokenRelease, [digest]);
  }

  async consumeToken(digest: string, expiresAt: number): Promise<boolean> {
    return (await this.query(SQL.tokenUse, [digest, expiresAt])).rowCount === 1;
  }

  async pruneTokens(nowSeconds: number): Promise<number> {
    return (await this.query(SQL.tokenPrune, [nowSeconds])).rowCount ?? 0;
  }

  async engineKeyBinding(): Promise<EngineKeyBinding> {
    return this.transaction((c) => this.binding(c));
  }

  async bindEngineKeys(check: EngineKeyCheck): Promise<void> {
    await this.transaction(async (c) => {
      await c.query(SQL.verifiersLock);
      for (const v of check(await this.binding(c))) await c.query(SQL.verifierAdd, [v.role, v.keyId, Buffer.from(v.verifier)]);
    });
  }

  /** Read inside the caller's transaction (after its lock, when binding). */
  private async binding(c: pg.PoolClient): Promise<EngineKeyBinding> {
    const verifiers = (await c.query<VerifierRow>(SQL.verifiers)).rows.map(verifierFromRow);
    return { verifiers, holdsKeys: (await c.query<{ held: boolean }>(SQL.holdsKeys)).rows[0].held };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
