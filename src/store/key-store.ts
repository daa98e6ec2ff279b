/**
 * The key store: keys, states, material commitments, stored (sealed / referenced) material and
 * import-token usage counters. Implementations give atomicity; the engine holds every rule:
 * `updateKey` runs the engine's mutation on the current record inside one transaction, so a
 * compare-and-set (first import, concurrent imports) is exactly one store operation.
 *
 * This is also the record model (KeyRecord, KeyState, KeyOrigin): the engine builds on it, the
 * store never imports the engine.
 */
import type { MaterialSpec } from '../algorithms/specs.js';

/** A key's life-cycle state (`src/engine/state-machine.ts` says what each allows). */
export type KeyState = 'PendingImport' | 'Enabled' | 'Disabled' | 'PendingDeletion';
/** EXTERNAL: material imported by the customer; KMS: material made by the engine. */
export type KeyOrigin = 'EXTERNAL' | 'KMS';

/** What a key is, fixed when it is created: the stored record and the engine's metadata share it. */
export interface KeyDescription {
  readonly keyId: string;
  readonly tenant: string;
  readonly alias?: string;
  readonly description?: string;
  readonly origin: KeyOrigin;
  readonly materialSpec: MaterialSpec;
  /** Seconds since the epoch. */
  readonly createdAt: number;
}

/** A key as the store keeps it: its description, state, commitment and stored (sealed) material. */
export interface KeyRecord extends KeyDescription {
  readonly state: KeyState;
  /** Keyed commitment to the material: set by the first import, never cleared. */
  readonly commitment?: Uint8Array;
  /** The backend's durable form of the material (sealed bytes or a device reference). */
  readonly storedMaterial?: Uint8Array;
  /** Seconds; null = never expires; undefined when there is no material. */
  readonly materialExpiresAt?: number | null;
  /** Seconds, when PendingDeletion. */
  readonly deletionDate?: number;
}

/**
 * An alias of a key (`alias/<name>`): unique per tenant, several per key, removed with its key.
 * A store keeps it as given; the engine checks names and targets.
 */
export interface AliasRecord {
  readonly tenant: string;
  readonly aliasName: string;
  readonly keyId: string;
  /** Seconds since the epoch. */
  readonly createdAt: number;
}

/** Which engine key a verifier is for. */
export type EngineKeyRole = 'commitment' | 'master' | 'token-sealing';

/**
 * A verifier of one engine key, as the store records it: a MAC of a fixed label under the key,
 * with the key's ID (empty for the commitment key), never the key itself.
 */
export interface EngineKeyVerifier {
  readonly role: EngineKeyRole;
  readonly keyId: string;
  readonly verifier: Uint8Array;
}

/** What a store is bound to. A store with no verifiers and no keys is new. */
export interface EngineKeyBinding {
  readonly verifiers: readonly EngineKeyVerifier[];
  /** Whether the store holds any key record. */
  readonly holdsKeys: boolean;
}

/** Checks a binding and returns the verifiers to add (none to refuse: it throws). */
export type EngineKeyCheck = (binding: EngineKeyBinding) => readonly EngineKeyVerifier[];

/** The change `updateKey` makes to one record, inside its transaction; throwing aborts it without writing. */
export type KeyMutation = (current: KeyRecord) => KeyRecord;

/** What `reserveTokenAttemptCommitted` gives: whether the attempt was counted, and when that is on disk. */
export interface CommittedReservation {
  readonly reserved: boolean;
  readonly durable: Promise<void>;
}

/** Where an engine keeps its keys and import-token counters; implement it to bring your own store. */
export interface KeyStore {
  /** Add a new key; a duplicate key ID is an error. */
  createKey(record: KeyRecord): Promise<void>;
  /** The key, or undefined if there is none. */
  getKey(keyId: string): Promise<KeyRecord | undefined>;
  /** Every key of a tenant. */
  listKeys(tenant: string): Promise<KeyRecord[]>;
  /**
   * Atomically read the key, apply `mutate` and write the result. If `mutate` throws, nothing is
   * written and the error propagates. Returns undefined when the key does not exist.
   */
  updateKey(keyId: string, mutate: KeyMutation): Promise<KeyRecord | undefined>;
  /**
   * An import's commit: `updateKey` and `releaseTokenAttempt(tokenDigest)` in one transaction,
   * so a successful import gives its reserved attempt back in the write that stores it. If
   * `mutate` throws or the key does not exist, nothing is written (the attempt stays counted).
   */
  commitImport(keyId: string, mutate: KeyMutation, tokenDigest: string): Promise<KeyRecord | undefined>;
  /** Remove a key and everything stored with it (its aliases too). */
  deleteKey(keyId: string): Promise<void>;

  /** Add an alias; false (and nothing written) if the tenant already has one of that name. */
  createAlias(alias: AliasRecord): Promise<boolean>;
  /** The tenant's alias of that name, or undefined. */
  getAlias(tenant: string, aliasName: string): Promise<AliasRecord | undefined>;
  /** Every alias of the tenant, by name. */
  listAliases(tenant: string): Promise<AliasRecord[]>;
  /** Remove the tenant's alias of that name; false if there was none. */
  deleteAlias(tenant: string, aliasName: string): Promise<boolean>;

  /** Failed unwraps recorded against a token (by digest). */
  tokenFailures(tokenDigest: string): Promise<number>;
  /** Add one failure; returns the new count. `expiresAt` (seconds) lets the row be pruned. */
  addTokenFailure(tokenDigest: string, expiresAt: number): Promise<number>;
  /**
   * Atomically count one attempt against the token if fewer than `budget` are counted; false
   * otherwise. The engine reserves before every unwrap so that concurrent attempts cannot
   * overshoot the budget (a read-then-increment would let N parallel queries through).
   */
  reserveTokenAttempt(tokenDigest: string, expiresAt: number, budget: number): Promise<boolean>;
  /**
   * Optional: `reserveTokenAttempt` that settles as soon as the reservation is committed (every
   * writer sees it, so the budget holds for parallel attempts), with `durable` settling once it
   * is on disk (rejecting with STORE_UNAVAILABLE if it never gets there). The engine unwraps
   * meanwhile and answers only after `durable`, so no answer ever leaves for an attempt a crash
   * could forget, while the unwrap overlaps the disk flush instead of waiting for it.
   */
  reserveTokenAttemptCommitted?(tokenDigest: string, expiresAt: number, budget: number): Promise<CommittedReservation>;
  /** Give back a reserved attempt that ended in a refusal that is no oracle answer (never below 0). */
  releaseTokenAttempt(tokenDigest: string): Promise<void>;
  /** Mark a single-use token used; false if it already was. */
  consumeToken(tokenDigest: string, expiresAt: number): Promise<boolean>;
  /** Drop token rows whose token expired before `nowSeconds`. */
  pruneTokens(nowSeconds: number): Promise<number>;

  /** The engine keys the store is bound to, and whether it holds any key (see `bindEngineKeys`). */
  engineKeyBinding(): Promise<EngineKeyBinding>;
  /**
   * In one transaction: read the binding, run `check` on it and record the verifiers it returns
   * (recorded ones are never changed or removed). If `check` throws, nothing is written and the
   * error propagates. Two engines binding one new store at once take turns: the second checks
   * what the first recorded.
   */
  bindEngineKeys(check: EngineKeyCheck): Promise<void>;

  /**
   * Readiness (GET /readyz): one real round trip to the storage (a `SELECT 1`), rejecting with
   * STORE_UNAVAILABLE when the store cannot serve: unreachable, closed, or disabled for good
   * after a failed flush (SQLite).
   */
  ping(): Promise<void>;

  /** Finish pending writes and release the store's resources. */
  close(): Promise<void>;
}
