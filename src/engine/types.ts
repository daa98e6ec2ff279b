/**
 * The import engine's public API: what a KMS server embeds, over either backend.
 * Times on this surface are seconds since the epoch (as the seeds' APIs use).
 */
import type { MaterialSpec, WrappingAlgorithm, WrappingKeySpec } from '../algorithms/specs.js';

export type KeyState = 'PendingImport' | 'Enabled' | 'Disabled' | 'PendingDeletion';
export type KeyOrigin = 'EXTERNAL' | 'KMS';

export interface CreateKeyInput {
  readonly tenant: string;
  /** Default EXTERNAL (material imported); KMS keys get material made by the engine. */
  readonly origin?: KeyOrigin;
  /** Default AES_256. */
  readonly materialSpec?: MaterialSpec;
  readonly alias?: string;
  readonly description?: string;
}

export interface KeyMetadata {
  readonly keyId: string;
  readonly tenant: string;
  readonly alias?: string;
  readonly description?: string;
  readonly origin: KeyOrigin;
  readonly materialSpec: MaterialSpec;
  /** The effective state (an expired import reads as PendingImport). */
  readonly state: KeyState;
  readonly createdAt: number;
  /** When the imported material expires; null = never; undefined = no material. */
  readonly materialExpiresAt?: number | null;
  /** Scheduled deletion time when PendingDeletion. */
  readonly deletionDate?: number;
  /**
   * A public check value of the material: a keyed digest of the commitment. Equal material
   * gives an equal value for the same key; it reveals nothing about the material.
   */
  readonly keyCheckValue?: string;
}

export interface KeyRef {
  readonly tenant: string;
  readonly keyId: string;
}

export interface GetParametersForImportInput extends KeyRef {
  readonly wrappingAlgorithm: WrappingAlgorithm | string;
  /** Default RSA_2048 for RSA algorithms, SM2 for SM2_ENCRYPT. */
  readonly wrappingKeySpec?: WrappingKeySpec | string;
}

export interface ImportParameters {
  readonly keyId: string;
  /** base64 DER SubjectPublicKeyInfo. */
  readonly publicKey: string;
  /** base64, matches ^[0-9a-zA-Z+/=]{200,6144}$. */
  readonly importToken: string;
  /** Seconds since the epoch. */
  readonly expirationTime: number;
  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly wrappingKeySpec: WrappingKeySpec;
}

export interface ImportKeyMaterialInput extends KeyRef {
  readonly importToken: string;
  /** The wrapped material: bytes, or base64 as the wire APIs carry it. */
  readonly encryptedKeyMaterial: Uint8Array | string;
  /** Seconds since the epoch; absent or 0 = never expires; else > now and <= 2147443200. */
  readonly expirationTime?: number;
  /** If the caller names the algorithm, it must be the one the token was issued for. */
  readonly wrappingAlgorithm?: WrappingAlgorithm | string;
}

export interface ImportResult {
  readonly keyId: string;
  readonly state: KeyState;
  readonly materialExpiresAt: number | null;
  readonly keyCheckValue: string;
}

export interface ScheduleDeletionInput extends KeyRef {
  /** 7..1096 days (the seeds' window); default 30. */
  readonly pendingDays?: number;
}

export interface EncryptInput extends KeyRef {
  readonly plaintext: Uint8Array;
  readonly aad?: Uint8Array;
}

export interface DecryptInput {
  readonly tenant: string;
  /** The ciphertext blob names its key (Tencent's Decrypt takes no KeyId). */
  readonly ciphertextBlob: Uint8Array;
  /** If given, the blob's key must be this one. */
  readonly keyId?: string;
  readonly aad?: Uint8Array;
}

export interface EncryptResult {
  readonly keyId: string;
  readonly ciphertextBlob: Uint8Array;
}

export interface DecryptResult {
  readonly keyId: string;
  readonly plaintext: Uint8Array;
}

/** What the service (src/server) and the CLI code against. */
export interface Engine {
  createKey(input: CreateKeyInput): Promise<KeyMetadata>;
  describeKey(ref: KeyRef): Promise<KeyMetadata>;
  listKeys(tenant: string): Promise<KeyMetadata[]>;
  getParametersForImport(input: GetParametersForImportInput): Promise<ImportParameters>;
  importKeyMaterial(input: ImportKeyMaterialInput): Promise<ImportResult>;
  deleteKeyMaterial(ref: KeyRef): Promise<KeyMetadata>;
  enableKey(ref: KeyRef): Promise<KeyMetadata>;
  disableKey(ref: KeyRef): Promise<KeyMetadata>;
  scheduleKeyDeletion(input: ScheduleDeletionInput): Promise<KeyMetadata>;
  cancelKeyDeletion(ref: KeyRef): Promise<KeyMetadata>;
  encrypt(input: EncryptInput): Promise<EncryptResult>;
  decrypt(input: DecryptInput): Promise<DecryptResult>;
  close(): Promise<void>;
}
