/**
 * The import flow. get-parameters-for-import issues a fresh wrapping key pair and a sealed,
 * stateless token; import-key-material is a short pipeline — open the token, reserve an
 * attempt, unwrap, commit — that reads the clock once and, when it succeeds, costs the store one
 * read (the key) and two writes (the reservation; the commit, which gives the attempt back). With
 * a store that answers a reservation at its COMMIT, the unwrap overlaps the reservation's disk
 * flush, and the answer waits for it: one disk flush on an import's path, not two.
 */
import { assertCompatible, defaultKeySpecFor, parseWrappingAlgorithm, parseWrappingKeySpec } from '../algorithms/specs.js';
import type { CryptoBackend, MaterialHandle } from '../backends/crypto-backend.js';
import { equalBytes, toBase64, zeroize } from '../bytes.js';
import { nowSeconds, type Clock } from '../clock.js';
import { ByokError, isByokError, type ErrorCode } from '../errors.js';
import type { KeyRecord, KeyStore } from '../store/key-store.js';
import type { OpenedToken, TokenSealer } from '../token/import-token.js';
import type { AuditDetails } from './audit.js';
import type { Commitments } from './commitments.js';
import { decodeBytes, requireKeyId, requireTenant } from './input-checks.js';
import { effectiveState, type KeyAccess } from './key-access.js';
import { importShape, unwrapImport, type ImportShape } from './material-unwrap.js';
import { transition } from './state-machine.js';
import type { GetParametersForImportInput, ImportKeyMaterialInput, ImportParameters, ImportResult, KeyRef } from './types.js';
import type { WrappingKeyPool } from './wrapping-key-pool.js';

/** The seeds' upper bound for material expiry (ValidTo / expiration_time). */
export const MAX_MATERIAL_EXPIRY = 2147443200;

/**
 * Failures after which the reserved attempt stays counted: the answers an attacker learns from
 * (the unwrap failed; the temporary key unwrapped but the private key is bad; the material
 * unwrapped but is not this key's), and a store outage, after which it is unknown whether the
 * commit (and its release) landed — the safe direction, as a crash. Any other refusal gives the
 * attempt back.
 */
const KEEPS_ATTEMPT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['DECRYPT_MATERIAL_FAILED', 'INVALID_PRIVATE_KEY', 'KEY_MATERIAL_MISMATCH', 'STORE_UNAVAILABLE']);

export interface ImportFlowParts {
  readonly backend: CryptoBackend;
  readonly store: KeyStore;
  readonly keys: KeyAccess;
  readonly commitments: Commitments;
  readonly sealer: TokenSealer;
  readonly clock: Clock;
  /** Seconds. */
  readonly tokenLifetime: number;
  /** Counted attempts allowed per token. */
  readonly failureBudget: number;
  readonly singleUseTokens: boolean;
  readonly wrappingKeyPool?: WrappingKeyPool;
}

/** An import request whose token opened and fits it. */
interface OpenedImport {
  readonly keyId: string;
  readonly token: OpenedToken;
  readonly shape: ImportShape;
  readonly ciphertext: Uint8Array;
  readonly encryptedPrivateKey?: Uint8Array;
  readonly materialExpiresAt: number | null;
}

export class ImportFlow {
  constructor(private readonly parts: ImportFlowParts) {}

  async getParametersForImport(input: GetParametersForImportInput): Promise<ImportParameters> {
    const { backend, keys, sealer, wrappingKeyPool } = this.parts;
    const now = nowSeconds(this.parts.clock);
    const algorithm = parseWrappingAlgorithm(input.wrappingAlgorithm);
    const keySpec = input.wrappingKeySpec === undefined ? defaultKeySpecFor(algorithm) : parseWrappingKeySpec(input.wrappingKeySpec);
    assertCompatible(algorithm, keySpec);
    const record = await keys.load(input, now);
    if (record.origin !== 'EXTERNAL') throw new ByokError('NOT_EXTERNAL_KEY');
    transition('getParameters', effectiveState(record, now));
    const unsupported = backend.unsupportedReason({ materialSpec: record.materialSpec, wrapping: { algorithm, keySpec } });
    if (unsupported !== undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', unsupported);
    const pair = wrappingKeyPool ? await wrappingKeyPool.take(keySpec) : await backend.generateWrappingKeyPair(keySpec);
    const expiresAt = now + this.parts.tokenLifetime;
    try {
      const importToken = sealer.seal(
        { tenant: record.tenant, keyId: record.keyId, algorithm, keySpec, materialSpec: record.materialSpec, issuedAt: now, expiresAt },
        pair.privateKeyBlob,
      );
      return { keyId: record.keyId, publicKey: toBase64(pair.publicKeySpki), importToken, expirationTime: expiresAt, wrappingAlgorithm: algorithm, wrappingKeySpec: keySpec };
    } finally {
      zeroize(pair.privateKeyBlob);
    }
  }

  async importKeyMaterial(input: ImportKeyMaterialInput, audit: AuditDetails): Promise<ImportResult> {
    const now = nowSeconds(this.parts.clock);
    const request = this.openToken(input, now, audit);
    try {
      const { durable } = await this.reserveAttempt(request.token);
      try {
        const record = await this.importTarget(input, request.token, now);
        const handle = await this.unwrap(request, audit);
        let result: ImportResult;
        try {
          result = await this.commit(record, handle, request, now);
        } finally {
          await this.parts.backend.release(handle);
        }
        // The token's wrapping key has done its job: a device destroys it now, not at its sweep.
        await this.parts.backend.discardWrappingKey?.(request.token.privateKeyBlob, 'imported').catch(() => undefined);
        await durable;
        return result;
      } catch (e) {
        if (!(isByokError(e) && KEEPS_ATTEMPT.has(e.code))) await this.parts.store.releaseTokenAttempt(request.token.digest).catch(() => undefined);
        // No answer, an oracle's least of all, leaves before its attempt is on disk (else STORE_UNAVAILABLE).
        await durable;
        throw e;
      }
    } finally {
      request.token.dispose();
    }
  }

  /** Drop token counters of expired tokens (call periodically). */
  sweep(): Promise<number> {
    return this.parts.store.pruneTokens(nowSeconds(this.parts.clock));
  }

  /**
   * 1. The request's fields, then its token: authentic, bound to this tenant, key and algorithm,
   * of a shape the fields fit (a clear error before any state), and unexpired.
   */
  private openToken(input: ImportKeyMaterialInput, now: number, audit: AuditDetails): OpenedImport {
    requireTenant(input.tenant);
    const keyId = requireKeyId(input.keyId);
    const ciphertext = decodeBytes(input.encryptedKeyMaterial, 'encryptedKeyMaterial');
    const encryptedPrivateKey = input.encryptedPrivateKey === undefined ? undefined : decodeBytes(input.encryptedPrivateKey, 'encryptedPrivateKey');
    const materialExpiresAt = checkMaterialExpiry(input.expirationTime, now);
    const claimedAlgorithm = input.wrappingAlgorithm === undefined ? undefined : parseWrappingAlgorithm(input.wrappingAlgorithm);
    const token = this.parts.sealer.open(input.importToken);
    audit.algorithm = token.claims.algorithm;
    try {
      const { claims } = token;
      if (claims.tenant !== input.tenant || claims.keyId !== keyId || (claimedAlgorithm !== undefined && claimedAlgorithm !== claims.algorithm)) {
        throw new ByokError('IMPORT_TOKEN_INVALID');
      }
      const shape = importShape(claims.algorithm, claims.materialSpec, encryptedPrivateKey !== undefined);
      if (now >= claims.expiresAt) throw new ByokError('IMPORT_TOKEN_EXPIRED');
      return { keyId, token, shape, ciphertext, materialExpiresAt, ...(encryptedPrivateKey ? { encryptedPrivateKey } : {}) };
    } catch (e) {
      token.dispose();
      throw e;
    }
  }

  /**
   * 2. Count the attempt against the token's budget before anything else, atomically:
   * Bleichenbacher and Manger need many queries, and parallel queries must not overshoot.
   */
  private async reserveAttempt(token: OpenedToken): Promise<{ durable: Promise<void> }> {
    const { store, failureBudget } = this.parts;
    // A store that can answer at COMMIT lets the unwrap overlap the reservation's disk flush.
    const { reserved, durable } = store.reserveTokenAttemptCommitted
      ? await store.reserveTokenAttemptCommitted(token.digest, token.claims.expiresAt, failureBudget)
      : { reserved: await store.reserveTokenAttempt(token.digest, token.claims.expiresAt, failureBudget), durable: Promise.resolve() };
    if (!reserved) {
      await durable;
      throw new ByokError('IMPORT_TOKEN_EXHAUSTED');
    }
    return { durable };
  }

  /** 3. The key: this tenant's, external, of the token's material spec, in an importing state. */
  private async importTarget(ref: KeyRef, token: OpenedToken, now: number): Promise<KeyRecord> {
    const record = await this.parts.keys.load(ref, now);
    if (record.origin !== 'EXTERNAL') throw new ByokError('NOT_EXTERNAL_KEY');
    if (record.materialSpec !== token.claims.materialSpec) throw new ByokError('IMPORT_TOKEN_INVALID');
    transition('importMaterial', effectiveState(record, now));
    if (this.parts.singleUseTokens && !(await this.parts.store.consumeToken(token.digest, token.claims.expiresAt))) {
      throw new ByokError('IMPORT_TOKEN_EXHAUSTED', 'The import token was already used.');
    }
    return record;
  }

  /** 4. Unwrap in the shape the token's algorithm and the key spec decided. */
  private async unwrap(request: OpenedImport, audit: AuditDetails): Promise<MaterialHandle> {
    const { token } = request;
    const { claims, digest } = token;
    const handle = await unwrapImport(this.parts.backend, request.shape, {
      keySpec: claims.keySpec, algorithm: claims.algorithm, materialSpec: claims.materialSpec,
      // Read only by a backend that has not parsed this token's key yet: the token opens its sealed blob then.
      get privateKeyBlob() {
        return token.privateKeyBlob;
      },
      ciphertext: request.ciphertext, encryptedPrivateKey: request.encryptedPrivateKey, cacheKey: digest, cacheUntil: claims.expiresAt * 1000,
    });
    if (handle.unwrapPath) audit.unwrapPath = handle.unwrapPath;
    return handle;
  }

  /**
   * 5. Commit: the first import sets the commitment, later ones must match it. One atomic write
   * that also gives the attempt back; material it replaces is destroyed after it.
   */
  private async commit(record: KeyRecord, handle: MaterialHandle, request: OpenedImport, now: number): Promise<ImportResult> {
    const { backend, store, commitments } = this.parts;
    const { keyId, tenant } = record;
    const { materialExpiresAt } = request;
    const commitment = await commitments.commitmentFor(handle, keyId);
    const stored = await backend.persistMaterial(handle, keyId);
    let replaced: Uint8Array | undefined;
    let updated: KeyRecord | undefined;
    try {
      updated = await store.commitImport(keyId, (cur) => {
        if (cur.tenant !== tenant) throw new ByokError('KEY_NOT_FOUND');
        if (cur.origin !== 'EXTERNAL') throw new ByokError('NOT_EXTERNAL_KEY');
        const state = transition('importMaterial', effectiveState(cur, now));
        if (cur.commitment && !equalBytes(cur.commitment, commitment)) throw new ByokError('KEY_MATERIAL_MISMATCH');
        replaced = cur.storedMaterial;
        return { ...cur, state, commitment: cur.commitment ?? commitment, storedMaterial: stored, materialExpiresAt };
      }, request.token.digest);
      if (!updated) throw new ByokError('KEY_NOT_FOUND');
    } catch (e) {
      // A store outage mid-write (e.g. the connection lost during COMMIT) leaves it unknown
      // whether the write landed. Keep the persisted material then: a leaked device object is
      // the safe direction, a stored reference to a destroyed one is not.
      if (!(isByokError(e) && e.code === 'STORE_UNAVAILABLE')) await backend.destroyPersistedMaterial(stored, keyId).catch(() => undefined);
      throw e;
    }
    if (replaced) await backend.destroyPersistedMaterial(replaced, keyId);
    return { keyId, state: effectiveState(updated, now), materialExpiresAt, keyCheckValue: commitments.keyCheckValue(updated.commitment!) };
  }
}

/** absent or 0 → never (null); else an integer later than now and at most MAX_MATERIAL_EXPIRY. */
function checkMaterialExpiry(value: number | undefined, now: number): number | null {
  if (value === undefined || value === 0) return null;
  if (!Number.isSafeInteger(value) || value <= now || value > MAX_MATERIAL_EXPIRY) {
    throw new ByokError('INVALID_PARAMETER', `expirationTime must be 0 or a time later than now and at most ${MAX_MATERIAL_EXPIRY}.`);
  }
  return value;
}
