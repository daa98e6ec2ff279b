/**
 * The durable embedded KeyStore: SQLite through better-sqlite3 in WAL mode, a write answered only
 * once it is on disk, and BEGIN IMMEDIATE transactions for read-mutate-write so two processes on
 * one file serialise too. Schema migrations are versioned and idempotent.
 *
 * Group commit: every write is queued, and the writes queued in one turn of the event loop run
 * in one BEGIN IMMEDIATE transaction, each in its own SAVEPOINT (a mutation that throws rolls
 * back only itself), with one COMMIT, so one fsync, for all of them. Each caller is answered only
 * after that COMMIT returned: an acknowledged write is on disk, as before. Writes run in the order
 * they were queued, so the batch is equivalent to running them one after another. Under load this
 * turns one fsync per write into one fsync per batch; a lone caller pays what it paid before.
 *
 * The fsync itself is off the event loop: the connection runs synchronous=NORMAL (in WAL mode
 * that is exactly FULL without the WAL fsync at COMMIT; checkpoints still sync) and the store
 * fdatasyncs the WAL file on libuv's thread pool, answering a batch's callers only after an
 * fdatasync that began after its COMMIT has returned. So an acknowledged write is on disk, as
 * with synchronous=FULL, while the thread that would have waited for the disk does RSA instead.
 * An import's attempt reservation is answered at its COMMIT (reserveTokenAttemptCommitted): the
 * unwrap runs while the disk flushes, and the engine answers only once the flush is done.
 * A read may see a committed write whose fdatasync is still running (as under any group commit
 * with early lock release); every later write lands after it in the WAL, so none that depends on
 * it can be durable without it. A failed fdatasync fails the store for good (the page cache can
 * no longer be trusted: PostgreSQL's "fsyncgate" lesson): STORE_UNAVAILABLE from then on.
 */
import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ByokError } from '../errors.js';
import type { AliasRecord, CommittedReservation, EngineKeyBinding, EngineKeyCheck, KeyMutation, KeyRecord, KeyStore } from './key-store.js';
import { aliasFromRow, KEY_COLUMNS, keyRecordFromRow, keyRowFromRecord, verifierFromRow, type AliasRow, type KeyRow, type VerifierRow } from './key-row.js';
import { SQLITE_MIGRATIONS } from './migrations/sqlite.js';
import { inconsistentWrite } from './store-errors.js';

interface QueuedWrite {
  readonly run: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Answer at COMMIT, before the fdatasync, which this then settles (reserveTokenAttemptCommitted). */
  readonly early?: { resolve: () => void; reject: (error: unknown) => void };
  /**
   * One statement: SQLite backs out a failed statement by itself (ON CONFLICT ABORT), so it
   * needs no savepoint of its own in the batch (two statements fewer per write).
   */
  readonly single?: boolean;
}

/** The durable embedded KeyStore: one SQLite file (better-sqlite3, WAL, group commit); a write is answered only once it is on disk. */
export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly stmts;
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  /** One write of a batch, in a SAVEPOINT (better-sqlite3 nests transactions that way). */
  private readonly runOne: (w: QueuedWrite) => unknown;
  private readonly runBatch: { immediate: (batch: QueuedWrite[]) => Array<{ ok: boolean; value: unknown }> };
  /** WAL mode: we fdatasync the WAL ourselves. Otherwise (no WAL) SQLite syncs at COMMIT. */
  private readonly ownSync: boolean;
  private walFd: number | undefined;
  /** fdatasyncs running; two at most, so a batch committed during one need not wait for it to end. */
  private syncing = 0;
  /** Batches committed and waiting for the next fdatasync to begin. */
  private awaitingSync: Array<(error?: unknown) => void> = [];
  private failed = false;
  /** The fdatasync call (a seam for tests). */
  private syncFile: (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void = fdatasync;

  /** @param busyTimeoutMs how long a write waits for another writer's lock before STORE_UNAVAILABLE. */
  constructor(path: string, busyTimeoutMs = 10_000) {
    try {
      createPrivately(path);
      this.db = new Database(path);
    } catch {
      throw new ByokError('STORE_UNAVAILABLE', 'The key store file could not be opened.');
    }
    this.ownSync = this.db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    this.db.pragma(this.ownSync ? 'synchronous = NORMAL' : 'synchronous = FULL');
    this.path = path;
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    this.migrate();
    this.stmts = {
      insert: this.db.prepare(`INSERT INTO keys (${KEY_COLUMNS.join(', ')}) VALUES (${KEY_COLUMNS.map((c) => '@' + c).join(', ')})`),
      get: this.db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE key_id = ?'),
      list: this.db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE tenant = ? ORDER BY created_at, key_id'),
      update: this.db.prepare(`UPDATE keys SET ${KEY_COLUMNS.slice(1).map((c) => `${c} = @${c}`).join(', ')} WHERE key_id = @key_id`),
      delete: this.db.prepare('DELETE FROM keys WHERE key_id = ?'),
      deleteAliasesOf: this.db.prepare('DELETE FROM aliases WHERE key_id = ?'),
      aliasAdd: this.db.prepare('INSERT INTO aliases (tenant, alias_name, key_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      aliasGet: this.db.prepare<[string, string], AliasRow>('SELECT * FROM aliases WHERE tenant = ? AND alias_name = ?'),
      aliasList: this.db.prepare<[string], AliasRow>('SELECT * FROM aliases WHERE tenant = ? ORDER BY alias_name'),
      aliasDelete: this.db.prepare('DELETE FROM aliases WHERE tenant = ? AND alias_name = ?'),
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
      verifiers: this.db.prepare<[], VerifierRow>('SELECT role, key_id, verifier FROM engine_key_verifiers ORDER BY role, key_id'),
      verifierAdd: this.db.prepare('INSERT INTO engine_key_verifiers (role, key_id, verifier) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      holdsKeys: this.db.prepare<[], { held: number }>('SELECT EXISTS (SELECT 1 FROM keys) AS held'),
    };
    this.runOne = this.db.transaction((w: QueuedWrite) => w.run());
    this.runBatch = this.db.transaction((batch: QueuedWrite[]) => batch.map((w) => {
      try {
        return { ok: true, value: w.single ? w.run() : this.runOne(w) };
      } catch (error) {
        return { ok: false, value: error };
      }
    }));
  }

  /** Queue a write for the next group commit; settles after that commit returned. */
  private write<T>(run: () => T, single = false): Promise<T> {
    if (!this.db.open || this.failed) return Promise.reject(new ByokError('STORE_UNAVAILABLE'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject, single });
      this.scheduleFlush();
    });
  }

  /**
   * Queue a write answered at its COMMIT (visible to every writer from then on), with `durable`
   * settling after the fdatasync that puts it on disk. A write that throws waits for the disk as usual.
   */
  private writeCommitted<T>(run: () => T): Promise<{ value: T; durable: Promise<void> }> {
    if (!this.db.open || this.failed) return Promise.reject(new ByokError('STORE_UNAVAILABLE'));
    return new Promise((resolve, reject) => {
      let early!: { resolve: () => void; reject: (error: unknown) => void };
      const durable = new Promise<void>((res, rej) => { early = { resolve: res, reject: rej }; });
      durable.catch(() => undefined); // observed by the caller, which may not have awaited it yet
      // Its one statement needs no savepoint (single).
      this.queue.push({ run, resolve: (value) => resolve({ value: value as T, durable }), reject, early, single: true });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate, not a microtask: every caller that reaches its write in this turn joins the batch.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (!this.db.open || this.failed) {
      for (const w of batch) w.reject(new ByokError('STORE_UNAVAILABLE'));
      return;
    }
    let results: Array<{ ok: boolean; value: unknown }>;
    try {
      results = this.runBatch.immediate(batch);
    } catch {
      // BEGIN (busy) or COMMIT failed: nothing of the batch is known to be on disk.
      for (const w of batch) w.reject(new ByokError('STORE_UNAVAILABLE'));
      return;
    }
    // Committed: early writers may go on (their answers still wait for `durable`).
    for (let i = 0; i < batch.length; i++) if (batch[i].early && results[i].ok) batch[i].resolve(results[i].value);
    // Everyone else waits for the disk, refusals too: they were decided on state that must be durable.
    this.afterSync((error) => {
      for (let i = 0; i < batch.length; i++) {
        const r = results[i];
        const w = batch[i];
        if (w.early && r.ok) {
          if (error) w.early.reject(new ByokError('STORE_UNAVAILABLE'));
          else w.early.resolve();
        } else if (error) w.reject(new ByokError('STORE_UNAVAILABLE'));
        else if (r.ok) w.resolve(r.value);
        else w.reject(storeError(r.value));
      }
    });
  }

  /** Run `done` after an fdatasync of the WAL that began after now (at once without our own sync). */
  private afterSync(done: (error?: unknown) => void): void {
    if (!this.ownSync) return done();
    this.awaitingSync.push(done);
    if (this.syncing < 2) this.startSync();
  }

  private startSync(): void {
    const waiting = this.awaitingSync;
    this.awaitingSync = [];
    let fd: number;
    try {
      fd = this.openWal();
    } catch (e) {
      this.failed = true;
      for (const done of waiting) done(e);
      return;
    }
    this.syncing++;
    this.syncFile(fd, (error) => {
      this.syncing--;
      if (error) this.failed = true;
      for (const done of waiting) done(error ?? undefined);
      if (this.awaitingSync.length > 0 && this.syncing < 2) this.startSync();
    });
  }

  /** The WAL exists from the first commit on and stays while this connection is open. */
  private openWal(): number {
    if (this.walFd === undefined) {
      this.walFd = openSync(`${this.path}-wal`, 'r+');
      // Once: the WAL's directory entry must be durable too (SQLite syncs the directory on the
      // WAL's first sync, which synchronous=NORMAL would leave to the first checkpoint).
      const dir = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return this.walFd;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const apply = this.db.transaction(() => {
      const row = this.db.prepare<[], { version: number }>('SELECT version FROM schema_version').get();
      let version = row?.version ?? 0;
      if (!row) this.db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
      for (; version < SQLITE_MIGRATIONS.length; version++) this.db.exec(SQLITE_MIGRATIONS[version]);
      this.db.prepare('UPDATE schema_version SET version = ?').run(version);
    });
    apply.immediate();
  }

  private run<T>(fn: () => T): T {
    if (this.failed) throw new ByokError('STORE_UNAVAILABLE');
    try {
      return fn();
    } catch (e) {
      if (e instanceof ByokError) throw e;
      throw new ByokError('STORE_UNAVAILABLE');
    }
  }

  async createKey(record: KeyRecord): Promise<void> {
    await this.write(() => {
      this.stmts.insert.run(keyRowFromRecord(record));
    });
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const row = this.run(() => this.stmts.get.get(keyId));
    return row && keyRecordFromRow(row);
  }

  async listKeys(tenant: string): Promise<KeyRecord[]> {
    return this.run(() => this.stmts.list.all(tenant)).map(keyRecordFromRow);
  }

  updateKey(keyId: string, mutate: KeyMutation): Promise<KeyRecord | undefined> {
    return this.write(() => this.mutateKey(keyId, mutate));
  }

  /** One queued write, so one savepoint: the key and the release land or roll back together. */
  commitImport(keyId: string, mutate: KeyMutation, tokenDigest: string): Promise<KeyRecord | undefined> {
    return this.write(() => {
      const next = this.mutateKey(keyId, mutate);
      if (next) this.stmts.tokenRelease.run(tokenDigest);
      return next;
    });
  }

  /** Read, mutate, write: run only inside a queued write's transaction. */
  private mutateKey(keyId: string, mutate: KeyMutation): KeyRecord | undefined {
    const row = this.stmts.get.get(keyId);
    if (!row) return undefined;
    const next = mutate(keyRecordFromRow(row));
    this.stmts.update.run(keyRowFromRecord({ ...next, keyId }));
    return next;
  }

  async deleteKey(keyId: string): Promise<void> {
    await this.write(() => {
      this.stmts.delete.run(keyId);
      this.stmts.deleteAliasesOf.run(keyId);
    });
  }

  createAlias(a: AliasRecord): Promise<boolean> {
    return this.write(() => this.stmts.aliasAdd.run(a.tenant, a.aliasName, a.keyId, a.createdAt).changes === 1);
  }

  async getAlias(tenant: string, aliasName: string): Promise<AliasRecord | undefined> {
    const row = this.run(() => this.stmts.aliasGet.get(tenant, aliasName));
    return row && aliasFromRow(row);
  }

  async listAliases(tenant: string): Promise<AliasRecord[]> {
    return this.run(() => this.stmts.aliasList.all(tenant)).map(aliasFromRow);
  }

  deleteAlias(tenant: string, aliasName: string): Promise<boolean> {
    return this.write(() => this.stmts.aliasDelete.run(tenant, aliasName).changes === 1);
  }

  async tokenFailures(digest: string): Promise<number> {
    return this.run(() => this.stmts.tokenGet.get(digest))?.failures ?? 0;
  }

  addTokenFailure(digest: string, expiresAt: number): Promise<number> {
    return this.write(() => (this.stmts.tokenFail.get(digest, expiresAt) as { failures: number }).failures);
  }

  reserveTokenAttempt(digest: string, expiresAt: number, budget: number): Promise<boolean> {
    return this.write(() => this.stmts.tokenReserve.run({ digest, expires: expiresAt, budget }).changes === 1, true);
  }

  async reserveTokenAttemptCommitted(digest: string, expiresAt: number, budget: number): Promise<CommittedReservation> {
    const { value, durable } = await this.writeCommitted(() => this.stmts.tokenReserve.run({ digest, expires: expiresAt, budget }).changes === 1);
    return { reserved: value, durable };
  }

  async releaseTokenAttempt(digest: string): Promise<void> {
    await this.write(() => {
      this.stmts.tokenRelease.run(digest);
    }, true);
  }

  consumeToken(digest: string, expiresAt: number): Promise<boolean> {
    return this.write(() => this.stmts.tokenUse.run(digest, expiresAt).changes === 1, true);
  }

  pruneTokens(nowSeconds: number): Promise<number> {
    return this.write(() => this.stmts.tokenPrune.run(nowSeconds).changes);
  }

  async engineKeyBinding(): Promise<EngineKeyBinding> {
    return this.run(() => this.binding());
  }

  async bindEngineKeys(check: EngineKeyCheck): Promise<void> {
    await this.write(() => {
      for (const v of check(this.binding())) this.stmts.verifierAdd.run(v.role, v.keyId, Buffer.from(v.verifier));
    });
  }

  private binding(): EngineKeyBinding {
    return { verifiers: this.stmts.verifiers.all().map(verifierFromRow), holdsKeys: this.stmts.holdsKeys.get()!.held === 1 };
  }

  async ping(): Promise<void> {
    if (!this.db.open) throw new ByokError('STORE_UNAVAILABLE', 'The key store is closed.');
    if (this.failed) throw new ByokError('STORE_UNAVAILABLE', 'The key store was disabled after a failed write to disk; restart the service.');
    this.run(() => this.db.prepare('SELECT 1').get());
  }

  /** Commits what is queued, waits for the disk, then closes. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    this.flush();
    await new Promise<void>((resolve) => this.afterSync(() => resolve()));
    if (!this.db.open) return;
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
    this.db.close();
  }
}

/**
 * A mutation's own ByokError as it is; a trigger's refusal (the write-once commitment) is an
 * inconsistent write; anything else is STORE_UNAVAILABLE (as a duplicate key ID always was here).
 */
function storeError(e: unknown): ByokError {
  if (e instanceof ByokError) return e;
  return (e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_TRIGGER' ? inconsistentWrite(e) : new ByokError('STORE_UNAVAILABLE');
}

/**
 * Create the database file 0600 before SQLite does (it would use 0644 less the umask), whoever
 * made the directory; SQLite gives the -wal and -shm files the database file's mode. An
 * existing file keeps its mode.
 */
function createPrivately(path: string): void {
  if (path === ':memory:' || path === '' || path.startsWith('file:')) return;
  closeSync(openSync(path, 'a', 0o600));
}
