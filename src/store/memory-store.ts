/** In-memory KeyStore for tests and embedding experiments; not durable. */
import { equalBytes } from '../bytes.js';
import type { AliasRecord, EngineKeyBinding, EngineKeyCheck, EngineKeyVerifier, KeyMutation, KeyRecord, KeyStore } from './key-store.js';
import { inconsistentWrite } from './store-errors.js';

/** A KeyStore in memory, for tests and embedders that persist elsewhere: not durable, every record ends with the process. */
export class MemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly tokens = new Map<string, { failures: number; used: boolean; expiresAt: number }>();
  private readonly verifiers: EngineKeyVerifier[] = [];
  /** By tenant, then alias name. */
  private readonly aliases = new Map<string, Map<string, AliasRecord>>();

  async createKey(record: KeyRecord): Promise<void> {
    if (this.keys.has(record.keyId)) throw new Error('duplicate key ID');
    this.keys.set(record.keyId, { ...record });
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const r = this.keys.get(keyId);
    return r && { ...r };
  }

  async listKeys(tenant: string): Promise<KeyRecord[]> {
    return [...this.keys.values()].filter((k) => k.tenant === tenant).map((k) => ({ ...k }));
  }

  async updateKey(keyId: string, mutate: KeyMutation): Promise<KeyRecord | undefined> {
    return this.mutateKey(keyId, mutate);
  }

  async commitImport(keyId: string, mutate: KeyMutation, tokenDigest: string): Promise<KeyRecord | undefined> {
    const next = this.mutateKey(keyId, mutate);
    if (next) this.releaseAttempt(tokenDigest);
    return next;
  }

  // Synchronous between read and write: atomic on the one JS thread.
  private mutateKey(keyId: string, mutate: KeyMutation): KeyRecord | undefined {
    const current = this.keys.get(keyId);
    if (!current) return undefined;
    const next = mutate({ ...current });
    // The SQL stores' write-once trigger, kept here too so that every store refuses alike.
    if (current.commitment && !(next.commitment && equalBytes(next.commitment, current.commitment))) throw inconsistentWrite();
    this.keys.set(keyId, { ...next });
    return { ...next };
  }

  async deleteKey(keyId: string): Promise<void> {
    const record = this.keys.get(keyId);
    this.keys.delete(keyId);
    const names = record && this.aliases.get(record.tenant);
    if (names) for (const [name, a] of names) if (a.keyId === keyId) names.delete(name);
  }

  async createAlias(alias: AliasRecord): Promise<boolean> {
    const names = this.aliases.get(alias.tenant) ?? new Map<string, AliasRecord>();
    if (names.has(alias.aliasName)) return false;
    names.set(alias.aliasName, { ...alias });
    this.aliases.set(alias.tenant, names);
    return true;
  }

  async getAlias(tenant: string, aliasName: string): Promise<AliasRecord | undefined> {
    const a = this.aliases.get(tenant)?.get(aliasName);
    return a && { ...a };
  }

  async listAliases(tenant: string): Promise<AliasRecord[]> {
    return [...(this.aliases.get(tenant)?.values() ?? [])].map((a) => ({ ...a })).sort((x, y) => (x.aliasName < y.aliasName ? -1 : x.aliasName > y.aliasName ? 1 : 0));
  }

  async deleteAlias(tenant: string, aliasName: string): Promise<boolean> {
    return this.aliases.get(tenant)?.delete(aliasName) ?? false;
  }

  async tokenFailures(digest: string): Promise<number> {
    return this.tokens.get(digest)?.failures ?? 0;
  }

  async addTokenFailure(digest: string, expiresAt: number): Promise<number> {
    const row = this.tokens.get(digest) ?? { failures: 0, used: false, expiresAt };
    row.failures++;
    this.tokens.set(digest, row);
    return row.failures;
  }

  // Synchronous between read and write: atomic on the one JS thread.
  async reserveTokenAttempt(digest: string, expiresAt: number, budget: number): Promise<boolean> {
    const row = this.tokens.get(digest) ?? { failures: 0, used: false, expiresAt };
    if (row.failures >= budget) return false;
    row.failures++;
    this.tokens.set(digest, row);
    return true;
  }

  async releaseTokenAttempt(digest: string): Promise<void> {
    this.releaseAttempt(digest);
  }

  private releaseAttempt(digest: string): void {
    const row = this.tokens.get(digest);
    if (row && row.failures > 0) row.failures--;
  }

  async consumeToken(digest: string, expiresAt: number): Promise<boolean> {
    const row = this.tokens.get(digest) ?? { failures: 0, used: false, expiresAt };
    if (row.used) return false;
    row.used = true;
    this.tokens.set(digest, row);
    return true;
  }

  async pruneTokens(nowSeconds: number): Promise<number> {
    let n = 0;
    for (const [d, row] of this.tokens) if (row.expiresAt < nowSeconds) { this.tokens.delete(d); n++; }
    return n;
  }

  async engineKeyBinding(): Promise<EngineKeyBinding> {
    return this.binding();
  }

  // Synchronous between read and write: atomic on the one JS thread.
  async bindEngineKeys(check: EngineKeyCheck): Promise<void> {
    const added = check(this.binding());
    for (const v of added) {
      if (!this.verifiers.some((r) => r.role === v.role && r.keyId === v.keyId)) this.verifiers.push({ ...v });
    }
  }

  private binding(): EngineKeyBinding {
    return { verifiers: this.verifiers.map((v) => ({ ...v })), holdsKeys: this.keys.size > 0 };
  }

  /** Nothing to reach: always ready. */
  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
