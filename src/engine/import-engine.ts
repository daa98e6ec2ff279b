/**
 * The engine's facade: the `Engine` over any CryptoBackend and KeyStore, each call audited and
 * handed to the job that does it — the import flow (import-flow.ts), the key life cycle
 * (key-lifecycle.ts), key use (key-use.ts). The jobs validate, decide and record; the backend
 * does the crypto; the store makes each decision one atomic write.
 */
import type { CapabilityReport, CryptoBackend } from '../backends/crypto-backend.js';
import { systemClock, type Clock } from '../clock.js';
import { ByokError, isByokError } from '../errors.js';
import type { KeyStore } from '../store/key-store.js';
import { TokenSealer, type TokenSealingKey } from '../token/import-token.js';
import { Audit, type AuditContext, type AuditSink } from './audit.js';
import { Commitments } from './commitments.js';
import { ImportFlow } from './import-flow.js';
import { KeyAccess } from './key-access.js';
import { KeyAliases } from './key-aliases.js';
import { KeyLifecycle } from './key-lifecycle.js';
import { KeyUse, randomOf } from './key-use.js';
import type {
  AliasEntry, AliasList, AliasRef, CreateAliasInput, CreateKeyInput, DataKeyResult, DecryptInput, DecryptResult, EncryptInput, EncryptResult, Engine,
  GenerateDataKeyInput, GetParametersForImportInput, ImportKeyMaterialInput, ImportParameters, ImportResult, KeyList, KeyMetadata, KeyRef,
  ListAliasesInput, ListKeysInput, MacInput, MacResult, PublicKeyResult, ReEncryptInput, ReEncryptResult, ScheduleDeletionInput, SignInput,
  SignResult, VerifyInput, VerifyMacInput, VerifyMacResult, VerifyResult,
} from './types.js';
import type { WrappingKeyPool } from './wrapping-key-pool.js';

export { MAX_MATERIAL_EXPIRY } from './import-flow.js';
export type { AuditRecord } from './audit.js';

/** Something the engine closes when it closes. */
export interface Closable {
  close(): Promise<void>;
}

export interface ImportEngineOptions {
  /** The caller's: `close()` leaves it open. */
  readonly backend: CryptoBackend;
  /** The caller's: `close()` leaves it open. */
  readonly store: KeyStore;
  /** Current key first; older keys keep opening their tokens until those expire. */
  readonly tokenSealingKeys: readonly TokenSealingKey[];
  /** 32 bytes; keys material commitments. Must never change for a store's lifetime. */
  readonly commitmentKey: Uint8Array;
  readonly clock?: Clock;
  /** Import token lifetime in seconds (default 24 h). */
  readonly tokenLifetimeSeconds?: number;
  /** Failed unwraps allowed per token before it is refused (default 10). */
  readonly tokenFailureBudget?: number;
  /** Refuse a token after its first import attempt (default false). */
  readonly singleUseTokens?: boolean;
  /** Called once per key operation; never given material, tokens or keys. */
  readonly onAudit?: AuditSink;
  /** Pre-generated wrapping key pairs (default: none, a key generation per call). The caller's too. */
  readonly wrappingKeyPool?: WrappingKeyPool;
  /** What `close()` closes, in order: the parts a composition root made for this engine alone. */
  readonly owned?: readonly Closable[];
}

/** What is not ready, and why (absent: ready). */
export interface Readiness {
  readonly store?: string;
  readonly backend?: string;
}

/** The message of the failure of `check`, or undefined: a foreign error's text is not shown. */
async function reason(check: () => Promise<void>): Promise<string | undefined> {
  try {
    await check();
    return undefined;
  } catch (e) {
    return isByokError(e) ? e.message : 'The check failed.';
  }
}

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) throw new ByokError('INVALID_PARAMETER', `${name} must be a positive integer.`);
  return value ?? fallback;
}

/** The Engine `openEngine` returns: each call audited and handed to its job (import flow, key life cycle, key use). */
export class ImportEngine implements Engine {
  readonly wrappingKeyPool?: WrappingKeyPool;
  private readonly backend: CryptoBackend;
  private readonly store: KeyStore;
  private readonly audit: Audit;
  private readonly imports: ImportFlow;
  private readonly lifecycle: KeyLifecycle;
  private readonly use: KeyUse;
  private readonly aliases: KeyAliases;
  private readonly owned: readonly Closable[];

  constructor(options: ImportEngineOptions) {
    const { backend, store } = options;
    const clock = options.clock ?? systemClock;
    const commitments = new Commitments(backend, options.commitmentKey);
    const tokenLifetime = positiveInteger(options.tokenLifetimeSeconds, 'tokenLifetimeSeconds', 86400);
    const failureBudget = positiveInteger(options.tokenFailureBudget, 'tokenFailureBudget', 10);
    const keys = new KeyAccess(store, backend);
    this.backend = backend;
    this.store = store;
    this.wrappingKeyPool = options.wrappingKeyPool;
    this.owned = options.owned ?? [];
    this.audit = new Audit(options.onAudit);
    this.imports = new ImportFlow({
      backend, store, keys, commitments, clock, tokenLifetime, failureBudget, sealer: new TokenSealer(options.tokenSealingKeys),
      singleUseTokens: options.singleUseTokens ?? false, ...(options.wrappingKeyPool ? { wrappingKeyPool: options.wrappingKeyPool } : {}),
    });
    this.lifecycle = new KeyLifecycle({ backend, store, keys, commitments, clock });
    this.use = new KeyUse({ backend, keys, clock });
    this.aliases = new KeyAliases({ store, keys, clock });
  }

  /**
   * A view of this engine whose audit records carry `context` (the service labels each request's
   * records with its request ID, wire API and action): the same store, backend and caches, only
   * the audit labels differ. An explicit view, not an AsyncLocalStorage: on Node 20 the latter's
   * promise hooks cost every promise of every call (~10 % of the service's CPU per import).
   */
  withAuditContext(context: AuditContext): ImportEngine {
    return Object.create(this, { audit: { value: this.audit.withContext(context) } }) as ImportEngine;
  }

  get backendId(): string {
    return this.backend.id;
  }

  /** A device backend's report of what it can do (GET /readyz shows it); undefined for the pure backend. */
  capabilityReport(): CapabilityReport | undefined {
    return this.backend.capabilityReport?.();
  }

  /** Readiness of the parts requests need: undefined when usable, else why not (GET /readyz). */
  async readiness(): Promise<Readiness> {
    const [store, backend] = await Promise.all([reason(() => this.store.ping()), reason(() => this.backend.checkReady())]);
    return { ...(store !== undefined ? { store } : {}), ...(backend !== undefined ? { backend } : {}) };
  }

  // One line a call: the audit record's operation name, the input field naming the algorithm, the job.

  // The key life cycle (key-lifecycle.ts).
  createKey(input: CreateKeyInput): Promise<KeyMetadata> { return this.audit.run('CreateKey', { tenant: input.tenant }, undefined, (details) => this.lifecycle.createKey(input, details)); }
  describeKey(ref: KeyRef): Promise<KeyMetadata> { return this.audit.run('DescribeKey', ref, undefined, () => this.lifecycle.describeKey(ref)); }
  listKeys(tenant: string): Promise<KeyMetadata[]>;
  listKeys(input: ListKeysInput): Promise<KeyList>;
  listKeys(arg: string | ListKeysInput): Promise<KeyMetadata[] | KeyList> { return typeof arg === 'string' ? this.lifecycle.listKeys(arg) : this.lifecycle.listKeysPage(arg); }
  deleteKeyMaterial(ref: KeyRef): Promise<KeyMetadata> { return this.audit.run('DeleteImportedKeyMaterial', ref, undefined, () => this.lifecycle.deleteKeyMaterial(ref)); }
  enableKey(ref: KeyRef): Promise<KeyMetadata> { return this.audit.run('EnableKey', ref, undefined, () => this.lifecycle.enableKey(ref)); }
  disableKey(ref: KeyRef): Promise<KeyMetadata> { return this.audit.run('DisableKey', ref, undefined, () => this.lifecycle.disableKey(ref)); }
  scheduleKeyDeletion(input: ScheduleDeletionInput): Promise<KeyMetadata> { return this.audit.run('ScheduleKeyDeletion', input, undefined, () => this.lifecycle.scheduleKeyDeletion(input)); }
  cancelKeyDeletion(ref: KeyRef): Promise<KeyMetadata> { return this.audit.run('CancelKeyDeletion', ref, undefined, () => this.lifecycle.cancelKeyDeletion(ref)); }

  // Aliases (key-aliases.ts).
  createAlias(input: CreateAliasInput): Promise<AliasEntry> { return this.audit.run('CreateAlias', input, undefined, () => this.aliases.createAlias(input)); }
  deleteAlias(ref: AliasRef): Promise<void> { return this.audit.run('DeleteAlias', ref, undefined, () => this.aliases.deleteAlias(ref)); }
  listAliases(input: ListAliasesInput): Promise<AliasList> { return this.aliases.listAliases(input); }

  // The import flow (import-flow.ts).
  getParametersForImport(input: GetParametersForImportInput): Promise<ImportParameters> { return this.audit.run('GetParametersForImport', input, input.wrappingAlgorithm, () => this.imports.getParametersForImport(input)); }
  importKeyMaterial(input: ImportKeyMaterialInput): Promise<ImportResult> { return this.audit.run('ImportKeyMaterial', input, input.wrappingAlgorithm, (details) => this.imports.importKeyMaterial(input, details)); }
  /** Drop token counters of expired tokens (call periodically). */
  sweep(): Promise<number> { return this.imports.sweep(); }

  // Key use (key-use.ts).
  encrypt(input: EncryptInput): Promise<EncryptResult> { return this.audit.run('Encrypt', input, undefined, () => this.use.encrypt(input)); }
  decrypt(input: DecryptInput): Promise<DecryptResult> { return this.audit.run('Decrypt', input, undefined, () => this.use.decrypt(input)); }
  generateDataKey(input: GenerateDataKeyInput): Promise<DataKeyResult> { return this.audit.run('GenerateDataKey', input, undefined, () => this.use.generateDataKey(input)); }
  reEncrypt(input: ReEncryptInput): Promise<ReEncryptResult> { return this.audit.run('ReEncrypt', { tenant: input.tenant, keyId: input.destinationKeyId ?? input.sourceKeyId }, undefined, () => this.use.reEncrypt(input)); }
  async generateRandom(numberOfBytes: number): Promise<Uint8Array> { return randomOf(numberOfBytes); }
  getPublicKey(ref: KeyRef): Promise<PublicKeyResult> { return this.audit.run('GetPublicKey', ref, undefined, () => this.use.getPublicKey(ref)); }
  sign(input: SignInput): Promise<SignResult> { return this.audit.run('Sign', input, input.signingAlgorithm, () => this.use.sign(input)); }
  verify(input: VerifyInput): Promise<VerifyResult> { return this.audit.run('Verify', input, input.signingAlgorithm, () => this.use.verify(input)); }
  generateMac(input: MacInput): Promise<MacResult> { return this.audit.run('GenerateMac', input, input.macAlgorithm, () => this.use.generateMac(input)); }
  verifyMac(input: VerifyMacInput): Promise<VerifyMacResult> { return this.audit.run('VerifyMac', input, input.macAlgorithm, () => this.use.verifyMac(input)); }

  /** Closes what the engine owns (`owned`), never the backend, store or pool it was given. */
  async close(): Promise<void> {
    for (const part of this.owned) await part.close();
  }
}
