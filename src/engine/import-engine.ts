/**
 * The import engine: get-parameters-for-import, import-key-material and the key life cycle,
 * over any CryptoBackend and KeyStore. It validates, decides and records; the backend does the
 * crypto; the store makes each decision one atomic write.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { verifyWithSpki } from '../algorithms/private-keys/signing.js';
import {
  assertCompatible, defaultKeySpecFor, envelopeKeyAlgorithm, MAC_ALGORITHM_OF, MATERIAL_SPECS, parseMaterialSpec, parseSigningAlgorithm,
  parseWrappingAlgorithm, parseWrappingKeySpec, signingAlgorithmsFor, WRAPPING_ALGORITHMS,
  type HmacSpec, type KeyUsage, type MacAlgorithm, type MaterialSpec, type WrappingAlgorithm,
} from '../algorithms/specs.js';
import type { CryptoBackend, MaterialHandle } from '../backends/crypto-backend.js';
import { equalBytes, fromBase64Strict, toBase64, toHex, zeroize } from '../bytes.js';
import { nowSeconds, systemClock, type Clock } from '../clock.js';
import { ByokError, isByokError } from '../errors.js';
import type { KeyRecord, KeyStore } from '../store/key-store.js';
import { TokenSealer, type TokenSealingKey } from '../token/import-token.js';
import { buildCiphertextBlob, KEY_ID_PATTERN, parseCiphertextBlob } from './ciphertext-blob.js';
import { importShape, unwrapImport } from './material-unwrap.js';
import { transition, type KeyOperation } from './state-machine.js';
import type { WrappingKeyPool } from './wrapping-key-pool.js';
import type {
  CreateKeyInput, DecryptInput, DecryptResult, EncryptInput, EncryptResult, Engine, GetParametersForImportInput,
  ImportKeyMaterialInput, ImportParameters, ImportResult, KeyMetadata, KeyRef, KeyState, MacInput, MacResult, PublicKeyResult,
  ScheduleDeletionInput, SignInput, SignResult, VerifyInput, VerifyMacInput,
} from './types.js';

/** The seeds' upper bound for material expiry (ValidTo / expiration_time). */
export const MAX_MATERIAL_EXPIRY = 2147443200;
const DAY = 86400;

/** What an operation may add to its audit record: never material, tokens or keys. */
export interface AuditDetails {
  keyId?: string;
  algorithm?: string;
  /** Which unwrap path ran (a device backend's native unwrap or the opt-in host decode). */
  unwrapPath?: string;
}

export interface AuditRecord extends Readonly<AuditDetails> {
  readonly operation: string;
  readonly tenant: string;
  readonly outcome: 'ok' | string;
}

export interface ImportEngineOptions {
  readonly backend: CryptoBackend;
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
  readonly onAudit?: (record: AuditRecord) => void;
  /** Pre-generated wrapping key pairs (default: none, a key generation per call). */
  readonly wrappingKeyPool?: WrappingKeyPool;
}

function requireTenant(tenant: unknown): string {
  if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 128) throw new ByokError('INVALID_PARAMETER', 'A tenant is required.');
  return tenant;
}

function requireKeyId(keyId: unknown): string {
  if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) throw new ByokError('INVALID_KEY_ID');
  return keyId;
}

/** A message to sign or MAC: 1..4096 bytes, as Encrypt's plaintext. */
function requireMessage(message: unknown, field = 'message'): Uint8Array {
  if (!(message instanceof Uint8Array) || message.length === 0 || message.length > 4096) throw new ByokError('INVALID_PARAMETER', `${field} must be 1 to 4096 bytes.`);
  return message;
}

function decodeBytes(value: Uint8Array | string, field: string): Uint8Array {
  const bytes = typeof value === 'string' ? fromBase64Strict(value) : value instanceof Uint8Array ? value : undefined;
  if (!bytes || bytes.length === 0) throw new ByokError('INVALID_PARAMETER', `${field} must be non-empty base64.`);
  return bytes;
}

export class ImportEngine implements Engine {
  private readonly backend: CryptoBackend;
  private readonly store: KeyStore;
  private readonly sealer: TokenSealer;
  private readonly commitmentKey: Uint8Array;
  private readonly clock: Clock;
  private readonly tokenLifetime: number;
  private readonly failureBudget: number;
  private readonly singleUse: boolean;
  private readonly onAudit?: (record: AuditRecord) => void;
  readonly wrappingKeyPool?: WrappingKeyPool;

  constructor(options: ImportEngineOptions) {
    if (options.commitmentKey.length !== 32) throw new ByokError('INVALID_PARAMETER', 'The commitment key must be 32 bytes.');
    const positive = (v: number | undefined, name: string) => {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new ByokError('INVALID_PARAMETER', `${name} must be a positive integer.`);
    };
    positive(options.tokenLifetimeSeconds, 'tokenLifetimeSeconds');
    positive(options.tokenFailureBudget, 'tokenFailureBudget');
    this.backend = options.backend;
    this.store = options.store;
    this.sealer = new TokenSealer(options.tokenSealingKeys);
    this.commitmentKey = options.commitmentKey;
    this.clock = options.clock ?? systemClock;
    this.tokenLifetime = options.tokenLifetimeSeconds ?? DAY;
    this.failureBudget = options.tokenFailureBudget ?? 10;
    this.singleUse = options.singleUseTokens ?? false;
    this.onAudit = options.onAudit;
    this.wrappingKeyPool = options.wrappingKeyPool;
  }

  get backendId(): string {
    return this.backend.id;
  }

  private now(): number {
    return nowSeconds(this.clock);
  }

  /**
   * Run one key operation and emit its audit record. `fn` may fill in what it learns on the way
   * (the key ID it created, the algorithm its token names, the unwrap path a device took).
   */
  private async audited<T>(operation: string, tenant: unknown, keyId: unknown, algorithm: unknown, fn: (audit: AuditDetails) => Promise<T>): Promise<T> {
    const details: AuditDetails = {
      ...(typeof keyId === 'string' ? { keyId: keyId.slice(0, 64) } : {}),
      ...(typeof algorithm === 'string' ? { algorithm: algorithm.slice(0, 40) } : {}),
    };
    const record = (outcome: string) => this.onAudit?.({ operation, tenant: String(tenant ?? ''), outcome, ...details });
    try {
      const result = await fn(details);
      record('ok');
      return result;
    } catch (e) {
      record(isByokError(e) ? e.code : 'INTERNAL_ERROR');
      throw e;
    }
  }

  // ---- commitments -------------------------------------------------------------------------

  /**
   * Symmetric and HMAC keys: a keyed PRF of the material (the backend's fingerprint). Private
   * keys: the derived public key (as Vault matches re-imports), so the same key pair matches
   * whatever PKCS#8 encoding it arrives in.
   */
  private async commitmentFor(handle: MaterialHandle, keyId: string): Promise<Uint8Array> {
    if (MATERIAL_SPECS[handle.materialSpec].kind === 'private-key') {
      const mac = createHmac('sha256', this.commitmentKey);
      mac.update(`byok/commitment/public-key/v1\0${keyId}\0${handle.materialSpec}\0`, 'utf8');
      mac.update(await this.backend.publicKey(handle));
      return new Uint8Array(mac.digest());
    }
    const fingerprint = await this.backend.fingerprintMaterial(handle, keyId);
    try {
      const mac = createHmac('sha256', this.commitmentKey);
      mac.update(`byok/commitment/v1\0${keyId}\0`, 'utf8');
      mac.update(fingerprint);
      return new Uint8Array(mac.digest());
    } finally {
      zeroize(fingerprint);
    }
  }

  private keyCheckValue(commitment: Uint8Array): string {
    const mac = createHmac('sha256', this.commitmentKey).update('byok/kcv/v1\0', 'utf8').update(commitment).digest();
    return toHex(mac.subarray(0, 8));
  }

  // ---- reading keys: tenancy, deletion and material expiry ------------------------------------

  /** The state the key acts in now: expired material reads as PendingImport. */
  private effectiveState(record: KeyRecord, now: number): KeyState {
    const expired = typeof record.materialExpiresAt === 'number' && now >= record.materialExpiresAt;
    if (expired && (record.state === 'Enabled' || record.state === 'Disabled')) return 'PendingImport';
    return record.state;
  }

  /** Load a key of this tenant; purge what has expired. Another tenant's key is "not found". */
  private async loadKey(ref: KeyRef): Promise<KeyRecord> {
    const tenant = requireTenant(ref.tenant);
    const keyId = requireKeyId(ref.keyId);
    let record = await this.store.getKey(keyId);
    if (!record || record.tenant !== tenant) throw new ByokError('KEY_NOT_FOUND');
    const now = this.now();
    if (record.state === 'PendingDeletion' && record.deletionDate !== undefined && now >= record.deletionDate) {
      if (record.storedMaterial) await this.backend.destroyPersistedMaterial(record.storedMaterial, keyId);
      await this.store.deleteKey(keyId);
      throw new ByokError('KEY_NOT_FOUND');
    }
    if (typeof record.materialExpiresAt === 'number' && now >= record.materialExpiresAt) {
      let purged: Uint8Array | undefined;
      record = (await this.store.updateKey(keyId, (cur) => {
        if (!(typeof cur.materialExpiresAt === 'number' && now >= cur.materialExpiresAt)) return cur;
        purged = cur.storedMaterial;
        return { ...cur, state: this.effectiveState(cur, now), storedMaterial: undefined, materialExpiresAt: undefined };
      })) ?? record;
      if (purged) await this.backend.destroyPersistedMaterial(purged, keyId);
    }
    return record;
  }

  private metadata(record: KeyRecord): KeyMetadata {
    return {
      keyId: record.keyId,
      tenant: record.tenant,
      ...(record.alias !== undefined ? { alias: record.alias } : {}),
      ...(record.description !== undefined ? { description: record.description } : {}),
      origin: record.origin,
      materialSpec: record.materialSpec,
      keySpec: record.materialSpec,
      keyUsage: MATERIAL_SPECS[record.materialSpec].usage,
      state: this.effectiveState(record, this.now()),
      createdAt: record.createdAt,
      ...(record.storedMaterial ? { materialExpiresAt: record.materialExpiresAt ?? null } : {}),
      ...(record.deletionDate !== undefined ? { deletionDate: record.deletionDate } : {}),
      ...(record.commitment ? { keyCheckValue: this.keyCheckValue(record.commitment) } : {}),
    };
  }

  // ---- calls -------------------------------------------------------------------------------

  createKey(input: CreateKeyInput): Promise<KeyMetadata> {
    return this.audited('CreateKey', input.tenant, undefined, undefined, async (audit) => {
      const tenant = requireTenant(input.tenant);
      const origin = input.origin ?? 'EXTERNAL';
      if (origin !== 'EXTERNAL' && origin !== 'KMS') throw new ByokError('INVALID_PARAMETER', 'origin must be EXTERNAL or KMS.');
      if (input.keySpec !== undefined && input.materialSpec !== undefined && parseMaterialSpec(input.keySpec) !== parseMaterialSpec(input.materialSpec)) {
        throw new ByokError('INVALID_PARAMETER', 'keySpec and materialSpec name different specs.');
      }
      const materialSpec = parseMaterialSpec(input.keySpec ?? input.materialSpec ?? 'AES_256');
      const unsupported = this.backend.keySpecUnsupportedReason(materialSpec);
      if (unsupported !== undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', unsupported);
      for (const [field, v] of [['alias', input.alias], ['description', input.description]] as const) {
        if (v !== undefined && (typeof v !== 'string' || v.length > 255)) throw new ByokError('INVALID_PARAMETER', `${field} must be a string of at most 255 characters.`);
      }
      const keyId = randomUUID();
      audit.keyId = keyId;
      let record: KeyRecord = {
        keyId, tenant, origin, materialSpec, state: 'PendingImport', createdAt: this.now(),
        ...(input.alias !== undefined ? { alias: input.alias } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
      };
      if (origin === 'KMS') {
        const handle = await this.backend.generateMaterial(materialSpec);
        try {
          record = {
            ...record, state: 'Enabled', commitment: await this.commitmentFor(handle, keyId),
            storedMaterial: await this.backend.persistMaterial(handle, keyId), materialExpiresAt: null,
          };
        } finally {
          this.backend.release(handle);
        }
      }
      await this.store.createKey(record);
      return this.metadata(record);
    });
  }

  describeKey(ref: KeyRef): Promise<KeyMetadata> {
    return this.audited('DescribeKey', ref.tenant, ref.keyId, undefined, async () => this.metadata(await this.loadKey(ref)));
  }

  async listKeys(tenant: string): Promise<KeyMetadata[]> {
    return (await this.store.listKeys(requireTenant(tenant))).map((r) => this.metadata(r));
  }

  getParametersForImport(input: GetParametersForImportInput): Promise<ImportParameters> {
    return this.audited('GetParametersForImport', input.tenant, input.keyId, input.wrappingAlgorithm, async () => {
      const algorithm = parseWrappingAlgorithm(input.wrappingAlgorithm);
      const keySpec = input.wrappingKeySpec === undefined ? defaultKeySpecFor(algorithm) : parseWrappingKeySpec(input.wrappingKeySpec);
      assertCompatible(algorithm, keySpec);
      const record = await this.loadKey(input);
      if (record.origin !== 'EXTERNAL') throw new ByokError('NOT_EXTERNAL_KEY');
      transition('getParameters', this.effectiveState(record, this.now()));
      // What the wrapping key itself unwraps: the key, or a temporary AES-256 key that wraps it.
      const viaTemporaryKey = WRAPPING_ALGORITHMS[algorithm].envelope || MATERIAL_SPECS[record.materialSpec].kind === 'private-key';
      const unwrapped: MaterialSpec = viaTemporaryKey ? 'AES_256' : record.materialSpec;
      const keyAlgorithm = envelopeKeyAlgorithm(algorithm);
      const unsupported = this.backend.keySpecUnsupportedReason(record.materialSpec)
        ?? (this.backend.supports(keyAlgorithm, keySpec, unwrapped) ? undefined : this.backend.unsupportedReason(keyAlgorithm, keySpec, unwrapped) ?? 'unsupported');
      if (unsupported !== undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', unsupported);
      const pair = this.wrappingKeyPool ? await this.wrappingKeyPool.take(keySpec) : await this.backend.generateWrappingKeyPair(keySpec);
      const issuedAt = this.now();
      const expiresAt = issuedAt + this.tokenLifetime;
      try {
        const importToken = this.sealer.seal(
          { tenant: record.tenant, keyId: record.keyId, algorithm, keySpec, materialSpec: record.materialSpec, issuedAt, expiresAt },
          pair.privateKeyBlob,
        );
        return { keyId: record.keyId, publicKey: toBase64(pair.publicKeySpki), importToken, expirationTime: expiresAt, wrappingAlgorithm: algorithm, wrappingKeySpec: keySpec };
      } finally {
        zeroize(pair.privateKeyBlob);
      }
    });
  }

  importKeyMaterial(input: ImportKeyMaterialInput): Promise<ImportResult> {
    return this.audited('ImportKeyMaterial', input.tenant, input.keyId, input.wrappingAlgorithm, (audit) => this.doImport(input, audit));
  }

  private async doImport(input: ImportKeyMaterialInput, audit: AuditDetails): Promise<ImportResult> {
    // 1. Inputs.
    requireTenant(input.tenant);
    const keyId = requireKeyId(input.keyId);
    const ciphertext = decodeBytes(input.encryptedKeyMaterial, 'encryptedKeyMaterial');
    const encryptedPrivateKey = input.encryptedPrivateKey === undefined ? undefined : decodeBytes(input.encryptedPrivateKey, 'encryptedPrivateKey');
    const materialExpiresAt = this.checkMaterialExpiry(input.expirationTime);
    const claimedAlgorithm: WrappingAlgorithm | undefined = input.wrappingAlgorithm === undefined ? undefined : parseWrappingAlgorithm(input.wrappingAlgorithm);

    // 2. The token: authentic, bound to this request, unexpired, within its failure budget.
    const token = this.sealer.open(input.importToken);
    audit.algorithm = token.claims.algorithm;
    let handle: MaterialHandle | undefined;
    let stored: Uint8Array | undefined;
    /** An attempt reserved against the token's budget, and whether it stays counted. */
    let reserved = false;
    let counted = false;
    try {
      const { claims } = token;
      if (claims.tenant !== input.tenant || claims.keyId !== keyId || (claimedAlgorithm !== undefined && claimedAlgorithm !== claims.algorithm)) {
        throw new ByokError('IMPORT_TOKEN_INVALID');
      }
      // The fields must fit the token's algorithm and key spec: a clear error before any state.
      const shape = importShape(claims.algorithm, claims.materialSpec, encryptedPrivateKey !== undefined);
      if (this.now() >= claims.expiresAt) throw new ByokError('IMPORT_TOKEN_EXPIRED');
      if ((await this.store.tokenFailures(token.digest)) >= this.failureBudget) {
        throw new ByokError('IMPORT_TOKEN_EXHAUSTED');
      }

      // 3. The key: this tenant's, external, of the token's material spec, in an importing state.
      const record = await this.loadKey(input);
      if (record.origin !== 'EXTERNAL') throw new ByokError('NOT_EXTERNAL_KEY');
      if (record.materialSpec !== claims.materialSpec) throw new ByokError('IMPORT_TOKEN_INVALID');
      transition('importMaterial', this.effectiveState(record, this.now()));
      if (this.singleUse && !(await this.store.consumeToken(token.digest, claims.expiresAt))) {
        throw new ByokError('IMPORT_TOKEN_EXHAUSTED', 'The import token was already used.');
      }

      // 4. Unwrap. Every attempt is counted first, atomically, and given back only if it did not
      // fail: Bleichenbacher/Manger need many queries, and parallel queries must not overshoot.
      if (!(await this.store.reserveTokenAttempt(token.digest, claims.expiresAt, this.failureBudget))) {
        throw new ByokError('IMPORT_TOKEN_EXHAUSTED');
      }
      reserved = true;
      try {
        handle = await unwrapImport(this.backend, shape, {
          keySpec: claims.keySpec, algorithm: claims.algorithm, materialSpec: claims.materialSpec,
          privateKeyBlob: token.privateKeyBlob, ciphertext, encryptedPrivateKey, cacheKey: token.digest, cacheUntil: claims.expiresAt * 1000,
        });
        if (handle.unwrapPath) audit.unwrapPath = handle.unwrapPath;
      } catch (e) {
        // A bad private key is counted too: it says the temporary key unwrapped.
        counted = isByokError(e) && (e.code === 'DECRYPT_MATERIAL_FAILED' || e.code === 'INVALID_PRIVATE_KEY');
        throw e;
      }

      // 5. Commit: first import sets the commitment, later ones must match it. One atomic write.
      const commitment = await this.commitmentFor(handle, keyId);
      stored = await this.backend.persistMaterial(handle, keyId);
      const newStored = stored;
      let replaced: Uint8Array | undefined;
      const now = this.now();
      let updated: KeyRecord | undefined;
      try {
        updated = await this.store.updateKey(keyId, (cur) => {
          if (cur.tenant !== input.tenant) throw new ByokError('KEY_NOT_FOUND');
          if (cur.origin !== 'EXTERNAL') throw new ByokError('NOT_EXTERNAL_KEY');
          const state = transition('importMaterial', this.effectiveState(cur, now));
          if (cur.commitment && !equalBytes(cur.commitment, commitment)) {
            // Counted too: a mismatch says "this ciphertext unwrapped", which is an oracle answer.
            counted = true;
            throw new ByokError('KEY_MATERIAL_MISMATCH');
          }
          replaced = cur.storedMaterial;
          return { ...cur, state, commitment: cur.commitment ?? commitment, storedMaterial: newStored, materialExpiresAt };
        });
      } catch (e) {
        // A store outage mid-write (e.g. the connection lost during COMMIT) leaves it unknown
        // whether the write landed. Keep the persisted material then: a leaked device object is
        // the safe direction, a stored reference to a destroyed one is not.
        if (isByokError(e) && e.code === 'STORE_UNAVAILABLE') stored = undefined;
        throw e;
      }
      if (!updated) throw new ByokError('KEY_NOT_FOUND');
      stored = undefined; // now owned by the store
      if (replaced) await this.backend.destroyPersistedMaterial(replaced, keyId);
      return { keyId, state: this.effectiveState(updated, this.now()), materialExpiresAt, keyCheckValue: this.keyCheckValue(updated.commitment!) };
    } finally {
      if (stored) await this.backend.destroyPersistedMaterial(stored, keyId).catch(() => undefined);
      if (handle) this.backend.release(handle);
      zeroize(token.privateKeyBlob);
      // A crash before this line leaves the attempt counted: the safe direction.
      if (reserved && !counted) await this.store.releaseTokenAttempt(token.digest).catch(() => undefined);
    }
  }

  /** absent or 0 → never (null); else an integer later than now and at most 2147443200. */
  private checkMaterialExpiry(value: number | undefined): number | null {
    if (value === undefined || value === 0) return null;
    if (!Number.isSafeInteger(value) || value <= this.now() || value > MAX_MATERIAL_EXPIRY) {
      throw new ByokError('INVALID_PARAMETER', `expirationTime must be 0 or a time later than now and at most ${MAX_MATERIAL_EXPIRY}.`);
    }
    return value;
  }

  private stateChange(name: string, operation: KeyOperation, ref: KeyRef, patch: (cur: KeyRecord, state: KeyState, now: number) => KeyRecord = (cur, state) => ({ ...cur, state })): Promise<KeyMetadata> {
    return this.audited(name, ref.tenant, ref.keyId, undefined, async () => {
      const loaded = await this.loadKey(ref);
      if (operation === 'deleteMaterial' && loaded.origin !== 'EXTERNAL') throw new ByokError('NOT_EXTERNAL_KEY');
      let removed: Uint8Array | undefined;
      const now = this.now();
      const updated = await this.store.updateKey(loaded.keyId, (cur) => {
        const next = patch(cur, transition(operation, this.effectiveState(cur, now)), now);
        removed = cur.storedMaterial !== next.storedMaterial ? cur.storedMaterial : undefined;
        return next;
      });
      if (!updated) throw new ByokError('KEY_NOT_FOUND');
      if (removed) await this.backend.destroyPersistedMaterial(removed, loaded.keyId);
      return this.metadata(updated);
    });
  }

  deleteKeyMaterial(ref: KeyRef): Promise<KeyMetadata> {
    // The commitment stays: only the same material may ever come back.
    return this.stateChange('DeleteImportedKeyMaterial', 'deleteMaterial', ref, (cur, state) => ({ ...cur, state, storedMaterial: undefined, materialExpiresAt: undefined }));
  }

  enableKey(ref: KeyRef): Promise<KeyMetadata> {
    return this.stateChange('EnableKey', 'enable', ref);
  }

  disableKey(ref: KeyRef): Promise<KeyMetadata> {
    return this.stateChange('DisableKey', 'disable', ref);
  }

  scheduleKeyDeletion(input: ScheduleDeletionInput): Promise<KeyMetadata> {
    const days = input.pendingDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 1096) return Promise.reject(new ByokError('INVALID_PARAMETER', 'pendingDays must be an integer from 7 to 1096.'));
    return this.stateChange('ScheduleKeyDeletion', 'scheduleDeletion', input, (cur, state, now) => ({ ...cur, state, deletionDate: now + days * DAY }));
  }

  cancelKeyDeletion(ref: KeyRef): Promise<KeyMetadata> {
    return this.stateChange('CancelKeyDeletion', 'cancelDeletion', ref, (cur, state) => ({
      ...cur, deletionDate: undefined, state: cur.storedMaterial ? state : 'PendingImport',
    }));
  }

  private async withMaterial<T>(record: KeyRecord, fn: (handle: MaterialHandle) => Promise<T>, usage: KeyUsage = 'ENCRYPT_DECRYPT'): Promise<T> {
    if (MATERIAL_SPECS[record.materialSpec].usage !== usage) {
      throw new ByokError('INVALID_KEY_USAGE', `A ${record.materialSpec} key is for ${MATERIAL_SPECS[record.materialSpec].usage}, not ${usage}.`);
    }
    transition('useMaterial', this.effectiveState(record, this.now()));
    if (!record.storedMaterial) throw new ByokError('KEY_STATE_UNSUPPORTED');
    const handle = await this.backend.loadMaterial(record.storedMaterial, record.materialSpec, record.keyId);
    try {
      return await fn(handle);
    } finally {
      this.backend.release(handle);
    }
  }

  encrypt(input: EncryptInput): Promise<EncryptResult> {
    return this.audited('Encrypt', input.tenant, input.keyId, undefined, async () => {
      if (!(input.plaintext instanceof Uint8Array) || input.plaintext.length === 0 || input.plaintext.length > 4096) {
        throw new ByokError('INVALID_PARAMETER', 'plaintext must be 1 to 4096 bytes.');
      }
      const record = await this.loadKey(input);
      const body = await this.withMaterial(record, (h) => this.backend.encrypt(h, input.plaintext, input.aad));
      return { keyId: record.keyId, ciphertextBlob: buildCiphertextBlob(record.keyId, body) };
    });
  }

  decrypt(input: DecryptInput): Promise<DecryptResult> {
    return this.audited('Decrypt', input.tenant, input.keyId, undefined, async () => {
      if (!(input.ciphertextBlob instanceof Uint8Array)) throw new ByokError('INVALID_PARAMETER', 'ciphertextBlob must be bytes.');
      const { keyId, backendCiphertext } = parseCiphertextBlob(input.ciphertextBlob);
      if (input.keyId !== undefined && input.keyId !== keyId) throw new ByokError('CIPHERTEXT_INVALID');
      const record = await this.loadKey({ tenant: input.tenant, keyId });
      const plaintext = await this.withMaterial(record, (h) => this.backend.decrypt(h, backendCiphertext, input.aad));
      return { keyId, plaintext };
    });
  }

  getPublicKey(ref: KeyRef): Promise<PublicKeyResult> {
    return this.audited('GetPublicKey', ref.tenant, ref.keyId, undefined, async () => {
      const record = await this.loadKey(ref);
      const spki = await this.withMaterial(record, (h) => this.backend.publicKey(h), 'SIGN_VERIFY');
      return { keyId: record.keyId, keySpec: record.materialSpec, publicKey: toBase64(spki), signingAlgorithms: signingAlgorithmsFor(record.materialSpec) };
    });
  }

  sign(input: SignInput): Promise<SignResult> {
    return this.audited('Sign', input.tenant, input.keyId, input.signingAlgorithm, async () => {
      const message = requireMessage(input.message);
      const record = await this.loadKey(input);
      const signingAlgorithm = parseSigningAlgorithm(input.signingAlgorithm, record.materialSpec);
      const signature = await this.withMaterial(record, (h) => this.backend.sign(h, signingAlgorithm, message), 'SIGN_VERIFY');
      return { keyId: record.keyId, signingAlgorithm, signature };
    });
  }

  /** Verification needs only the public key: the same code for both backends. */
  verify(input: VerifyInput): Promise<{ keyId: string; signatureValid: boolean }> {
    return this.audited('Verify', input.tenant, input.keyId, input.signingAlgorithm, async () => {
      const message = requireMessage(input.message);
      if (!(input.signature instanceof Uint8Array) || input.signature.length === 0 || input.signature.length > 1024) {
        throw new ByokError('INVALID_PARAMETER', 'signature must be 1 to 1024 bytes.');
      }
      const record = await this.loadKey(input);
      const signingAlgorithm = parseSigningAlgorithm(input.signingAlgorithm, record.materialSpec);
      const spki = await this.withMaterial(record, (h) => this.backend.publicKey(h), 'SIGN_VERIFY');
      return { keyId: record.keyId, signatureValid: verifyWithSpki(spki, signingAlgorithm, message, input.signature) };
    });
  }

  private macAlgorithmFor(spec: MaterialSpec, requested: unknown): MacAlgorithm {
    const own = MAC_ALGORITHM_OF[spec as HmacSpec];
    if (own === undefined) throw new ByokError('INVALID_KEY_USAGE', `A ${spec} key is for ${MATERIAL_SPECS[spec].usage}, not GENERATE_VERIFY_MAC.`);
    if (requested !== undefined && requested !== own) throw new ByokError('INVALID_PARAMETER', `A ${spec} key computes ${own} only.`);
    return own;
  }

  generateMac(input: MacInput): Promise<MacResult> {
    return this.audited('GenerateMac', input.tenant, input.keyId, input.macAlgorithm, async () => {
      const message = requireMessage(input.message);
      const record = await this.loadKey(input);
      const macAlgorithm = this.macAlgorithmFor(record.materialSpec, input.macAlgorithm);
      const mac = await this.withMaterial(record, (h) => this.backend.generateMac(h, message), 'GENERATE_VERIFY_MAC');
      return { keyId: record.keyId, macAlgorithm, mac };
    });
  }

  verifyMac(input: VerifyMacInput): Promise<{ keyId: string; macValid: boolean }> {
    return this.audited('VerifyMac', input.tenant, input.keyId, input.macAlgorithm, async () => {
      const message = requireMessage(input.message);
      if (!(input.mac instanceof Uint8Array)) throw new ByokError('INVALID_PARAMETER', 'mac must be bytes.');
      const record = await this.loadKey(input);
      this.macAlgorithmFor(record.materialSpec, input.macAlgorithm);
      const expected = await this.withMaterial(record, (h) => this.backend.generateMac(h, message), 'GENERATE_VERIFY_MAC');
      // Constant time over the MAC's length; a wrong length is simply not valid.
      const macValid = expected.length === input.mac.length && timingSafeEqual(expected, input.mac);
      return { keyId: record.keyId, macValid };
    });
  }

  /** Drop token counters of expired tokens (call periodically). */
  async sweep(): Promise<number> {
    return this.store.pruneTokens(this.now());
  }

  async close(): Promise<void> {
    await this.wrappingKeyPool?.close();
    await this.store.close();
    await this.backend.close();
  }
}

/** Material length for a spec (re-exported for callers building wraps). */
export function materialLength(spec: MaterialSpec): number {
  return MATERIAL_SPECS[spec].length;
}
