/**
 * `openEngine`: the engine with its embedded defaults — keys from the environment or
 * `<dataDir>/keys.json`, the SQLite store at `<dataDir>/byok.sqlite`, the pure backend — each
 * replaceable by an instance.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CryptoBackend } from '../backends/crypto-backend.js';
import { createPureBackend } from '../backends/pure/pure-backend.js';
import { loadEngineKeys, type EngineKeys } from '../config/key-files.js';
import type { KeyStore } from '../store/key-store.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import { SqliteKeyStore } from '../store/sqlite-store.js';
import type { PostgresUrl } from '../store/store-url.js';
import type { WrappingKeySpec } from '../algorithms/specs.js';
import { ImportEngine, type ImportEngineOptions } from './import-engine.js';
import { WrappingKeyPool } from './wrapping-key-pool.js';

export interface OpenEngineOptions extends Omit<ImportEngineOptions, 'backend' | 'store' | 'tokenSealingKeys' | 'commitmentKey'> {
  /** Where keys.json and byok.sqlite live (default ./data). */
  readonly dataDir?: string;
  /** Secrets; default: environment or the keys file in dataDir. */
  readonly keys?: EngineKeys;
  /** Default: SQLite in dataDir; a `postgres://` URL shares one key space between instances. */
  readonly store?: KeyStore | 'memory' | 'sqlite' | PostgresUrl;
  /** Default: the pure backend (sealing material under the master key). */
  readonly backend?: CryptoBackend | 'pure';
  /** Worker threads for the pure backend's private-key work (default 0 = inline). */
  readonly workers?: number;
  /** SQLite busy timeout in ms (default 10 s). */
  readonly sqliteBusyTimeoutMs?: number;
  /** Pre-generate wrapping key pairs: target depth per spec (e.g. { RSA_2048: 8 }). */
  readonly wrappingKeyPoolTargets?: Partial<Record<WrappingKeySpec, number>>;
  /** Or one depth for the default specs the backend supports (RSA_2048, SM2). */
  readonly wrappingKeyPoolDepth?: number;
}

/** The factory's configuration (the name the service and CLI code against). */
export type EngineConfig = OpenEngineOptions;

export async function openEngine(options: EngineConfig = {}): Promise<ImportEngine> {
  const dataDir = options.dataDir ?? 'data';
  const keys = options.keys ?? loadEngineKeys(dataDir);
  const backend = typeof options.backend === 'object' ? options.backend : createPureBackend({
    masterKey: keys.master[0].key, masterKeyId: keys.master[0].id, previousMasterKeys: keys.master.slice(1),
    ...(options.clock ? { clock: options.clock } : {}), workers: options.workers ?? 0,
  });
  let store: KeyStore;
  if (typeof options.store === 'object') store = options.store;
  else if (options.store === 'memory') store = new MemoryKeyStore();
  else if (options.store?.startsWith('postgres')) {
    // Loaded only when asked for: the embedded default never opens a pg pool.
    const { PostgresKeyStore } = await import('../store/postgres-store.js');
    store = await PostgresKeyStore.connect(options.store).catch(async (e: unknown) => {
      if (typeof options.backend !== 'object') await backend.close(); // ours: its workers must not outlive us
      throw e;
    });
  } else {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    store = new SqliteKeyStore(join(dataDir, 'byok.sqlite'), options.sqliteBusyTimeoutMs);
  }
  const depth = options.wrappingKeyPoolDepth ?? 0;
  const targets = options.wrappingKeyPoolTargets ?? (depth > 0 ? {
    ...(backend.supports('RSAES_OAEP_SHA_1', 'RSA_2048', 'AES_256') ? { RSA_2048: depth } : {}),
    ...(backend.supports('SM2_ENCRYPT', 'SM2', 'AES_256') ? { SM2: depth } : {}),
  } : undefined);
  const wrappingKeyPool = targets ? new WrappingKeyPool({ backend, targets, ...(options.clock ? { clock: options.clock } : {}) }) : undefined;
  wrappingKeyPool?.refill().catch(() => undefined);
  return new ImportEngine({ ...options, backend, store, tokenSealingKeys: keys.tokenSealing, commitmentKey: keys.commitment, ...(wrappingKeyPool ? { wrappingKeyPool } : {}) });
}

export { ImportEngine, MAX_MATERIAL_EXPIRY } from './import-engine.js';
export type { AuditRecord, ImportEngineOptions } from './import-engine.js';
export { WIRE_ERRORS } from './error-map.js';
export { WrappingKeyPool } from './wrapping-key-pool.js';
export type { WireError } from './error-map.js';
