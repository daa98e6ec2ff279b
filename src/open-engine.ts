/**
 * `openEngine`, the composition root: an ImportEngine with its embedded defaults — the pure
 * backend, the SQLite store at `<dataDir>/byok.sqlite`, the keys in `<dataDir>/keys.json` — each
 * replaceable by an instance. It reads no environment variable (turning those into options is
 * the config module's job), and loads better-sqlite3 or pg only when it opens that store.
 *
 * Rules: the engine closes only what openEngine created (a store or backend passed in stays the
 * caller's); nothing is written outside `dataDir`; a memory store without `keys` writes nothing
 * at all (its keys are made in memory and end with it, like its records); keys.json is written
 * only once the store has opened.
 *
 * Engine keys are bound to their store (src/engine/key-binding.ts): the store records verifiers
 * of the keys at its first use, and keys that are not its own are refused before anything else
 * runs. New keys are generated only for a new store (no keys, no verifiers): an existing store
 * whose keys.json is missing is refused, never given fresh keys.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WrappingKeySpec } from './algorithms/specs.js';
import type { CryptoBackend } from './backends/crypto-backend.js';
import { createPureBackend } from './backends/pure/pure-backend.js';
import { ENGINE_KEYS_FILE, generateEngineKeys, readEngineKeysFile, writeEngineKeysFile, type EngineKeys } from './config/key-files.js';
import { ByokError } from './errors.js';
import { ImportEngine, type Closable, type ImportEngineOptions } from './engine/import-engine.js';
import { bindEngineKeys, isNewStore } from './engine/key-binding.js';
import { WrappingKeyPool } from './engine/wrapping-key-pool.js';
import { loadOptional } from './optional-dependency.js';
import type { KeyStore } from './store/key-store.js';
import { MemoryKeyStore } from './store/memory-store.js';
import { isPostgresUrl, type PostgresUrl } from './store/store-url.js';

/** What `openEngine` opens: each part a default the engine creates (and closes), or an instance of yours (which stays yours). */
export interface OpenEngineOptions extends Omit<ImportEngineOptions, 'backend' | 'store' | 'tokenSealingKeys' | 'commitmentKey' | 'owned'> {
  /** Where keys.json and byok.sqlite live (default ./data); nothing is written outside it. */
  readonly dataDir?: string;
  /**
   * The engine's secrets. Default: for a memory store, fresh keys held in memory only; for any
   * other store, `<dataDir>/keys.json`, created (once the store has opened) when absent and the
   * store is new. Either way they must be the store's: it records them at its first use.
   */
  readonly keys?: EngineKeys;
  /**
   * Default: SQLite in dataDir; a `postgres://` URL shares one key space between instances. An
   * instance stays the caller's: the engine does not close it.
   */
  readonly store?: KeyStore | 'memory' | 'sqlite' | PostgresUrl;
  /** Default: the pure backend (sealing material under the master key). An instance stays the caller's. */
  readonly backend?: CryptoBackend | 'pure';
  /** Worker threads for the pure backend's private-key work (default 0 = inline). */
  readonly workers?: number;
  /**
   * The pure backend's key-generation threads (default 1 with workers, else none: libuv's pool);
   * the wrapping-key pool refills with as many generations at once.
   */
  readonly keyGenerationWorkers?: number;
  /** The pure backend's worker script, for a bundle that ships it apart (see PureBackendOptions.workerUrl). */
  readonly workerUrl?: URL | string;
  /** SQLite busy timeout in ms (default 10 s). */
  readonly sqliteBusyTimeoutMs?: number;
  /** Pre-generate wrapping key pairs: target depth per spec (e.g. { RSA_2048: 8 }). */
  readonly wrappingKeyPoolTargets?: Partial<Record<WrappingKeySpec, number>>;
  /** Or one depth for the default specs the backend supports (RSA_2048, SM2). */
  readonly wrappingKeyPoolDepth?: number;
}

/** Open an engine: by default the pure backend, the SQLite store and the keys under `dataDir`; give a store, a backend or keys to replace each. */
export async function openEngine(options: OpenEngineOptions = {}): Promise<ImportEngine> {
  const { dataDir = 'data', keys: givenKeys, store: storeOption, backend: backendOption, workers, keyGenerationWorkers, workerUrl, sqliteBusyTimeoutMs, wrappingKeyPoolTargets, wrappingKeyPoolDepth, ...engineOptions } = options;
  /** What we open, in order; closed in reverse by the engine, or here if a later step fails. */
  const created: Closable[] = [];
  const own = <T extends Closable>(part: T): T => (created.push(part), part);
  try {
    const store = typeof storeOption === 'object' ? storeOption : own(await openStore(storeOption, dataDir, sqliteBusyTimeoutMs));
    const keys = givenKeys ?? (storeOption === 'memory' ? generateEngineKeys() : await keysOfStore(store, dataDir));
    await bindEngineKeys(store, keys);
    const backend = typeof backendOption === 'object' ? backendOption : own(createPureBackend({
      masterKey: keys.master[0].key, masterKeyId: keys.master[0].id, previousMasterKeys: keys.master.slice(1),
      ...(options.clock ? { clock: options.clock } : {}), workers: workers ?? 0, ...(workerUrl !== undefined ? { workerUrl } : {}),
      ...(keyGenerationWorkers !== undefined ? { keyGenerationWorkers } : {}),
    }));
    const targets = wrappingKeyPoolTargets ?? defaultPoolTargets(backend, wrappingKeyPoolDepth ?? 0);
    const ownPool = targets ? own(new WrappingKeyPool({ backend, targets, concurrency: keyGenerationWorkers ?? 1, ...(options.clock ? { clock: options.clock } : {}) })) : undefined;
    ownPool?.refill().catch(() => undefined);
    const wrappingKeyPool = ownPool ?? engineOptions.wrappingKeyPool;
    return new ImportEngine({
      ...engineOptions, backend, store, tokenSealingKeys: keys.tokenSealing, commitmentKey: keys.commitment,
      ...(wrappingKeyPool ? { wrappingKeyPool } : {}), owned: [...created].reverse(),
    });
  } catch (e) {
    // Ours: a backend's workers or a pg pool must not outlive a failed open.
    for (const part of created.reverse()) await part.close().catch(() => undefined);
    throw e;
  }
}

/** `<dataDir>/keys.json`; created only for a new store, refused for one that has been used. */
async function keysOfStore(store: KeyStore, dataDir: string): Promise<EngineKeys> {
  const existing = readEngineKeysFile(dataDir);
  if (existing) return existing;
  if (!isNewStore(await store.engineKeyBinding())) {
    throw new ByokError('INVALID_PARAMETER', `${join(dataDir, ENGINE_KEYS_FILE)} is missing, and the key store has been used (it holds keys or is bound to ` +
      'engine keys): new keys would lose every imported key. Restore the keys file from a backup, or give the store\'s keys.');
  }
  return writeEngineKeysFile(dataDir, generateEngineKeys());
}

async function openStore(store: 'memory' | 'sqlite' | PostgresUrl | undefined, dataDir: string, busyTimeoutMs: number | undefined): Promise<KeyStore> {
  if (store === 'memory') return new MemoryKeyStore();
  if (store === undefined || store === 'sqlite') {
    const { SqliteKeyStore } = await loadOptional('better-sqlite3', () => import('./store/sqlite-store.js'));
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return new SqliteKeyStore(join(dataDir, 'byok.sqlite'), busyTimeoutMs);
  }
  if (isPostgresUrl(store)) {
    const { PostgresKeyStore } = await loadOptional('pg', () => import('./store/postgres-store.js'));
    return PostgresKeyStore.connect(store);
  }
  throw new ByokError('INVALID_PARAMETER', "store must be 'memory', 'sqlite', a postgres:// URL or a KeyStore.");
}

/** One depth for the default specs (RSA_2048, SM2) the backend supports; none at depth 0. */
function defaultPoolTargets(backend: CryptoBackend, depth: number): Partial<Record<WrappingKeySpec, number>> | undefined {
  if (depth <= 0) return undefined;
  return {
    ...(backend.unsupportedReason({ materialSpec: 'AES_256', wrapping: { algorithm: 'RSAES_OAEP_SHA_1', keySpec: 'RSA_2048' } }) === undefined ? { RSA_2048: depth } : {}),
    ...(backend.unsupportedReason({ materialSpec: 'AES_256', wrapping: { algorithm: 'SM2_ENCRYPT', keySpec: 'SM2' } }) === undefined ? { SM2: depth } : {}),
  };
}
