/**
 * The import engine's public API: what a KMS server embeds, over either backend.
 * Times on this surface are seconds since the epoch (as the seeds' APIs use). Inputs are
 * literal unions, so a misspelt algorithm or spec fails `tsc`; the engine still checks them at
 * run time for JS callers and the wire dialects.
 */
import type { KeyUsage, MacAlgorithm, MaterialSpec, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec } from '../algorithms/specs.js';
import type { KeyDescription, KeyOrigin, KeyState } from '../store/key-store.js';

/** The record model lives with the store (which never imports the engine); named here too. */
export type { KeyOrigin, KeyState } from '../store/key-store.js';

export interface CreateKeyInput {
  readonly tenant: string;
  /** Default EXTERNAL (material imported); KMS keys get material made by the engine. */
  readonly origin?: KeyOrigin;
  /**
   * What the key holds (default AES_256): AES_256, SM4_128, HMAC_224/256/384/512, RSA_2048/3072/
   * 4096, ECC_NIST_P256/P384/P521, ECC_SECG_P256K1, SM2. `keySpec` is the same field under the
   * name the cloud APIs use; give one or the other.
   */
  readonly materialSpec?: MaterialSpec;
  readonly keySpec?: MaterialSpec;
  readonly alias?: string;
  readonly description?: string;
}

export interface KeyMetadata extends KeyDescription {
  /** The same as materialSpec, under the cloud APIs' name. */
  readonly keySpec: MaterialSpec;
  readonly keyUsage: KeyUsage;
  /** The effective state (an expired import reads as PendingImport). */
  readonly state: KeyState;
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
  readonly wrappingAlgorithm: WrappingAlgorithm;
  /** Default RSA_2048 for RSA algorithms, SM2 for SM2_ENCRYPT. */
  readonly wrappingKeySpec?: WrappingKeySpec;
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
  /**
   * The wrapped material: bytes, or base64 as the wire APIs carry it. With `encryptedPrivateKey`
   * (Huawei's two fields) it is the wrapped temporary AES-256 key; with RSA_AES_KEY_WRAP_SHA_*
   * it is the single blob RSA-OAEP(temporary key) ‖ RFC 5649 wrap of the key.
   */
  readonly encryptedKeyMaterial: Uint8Array | string;
  /** Asymmetric (or HMAC) keys, Huawei style: RFC 5649 wrap of the PKCS#8 key under the temporary key. */
  readonly encryptedPrivateKey?: Uint8Array | string;
  /** Seconds since the epoch; absent or 0 = never expires; else > now and <= 2147443200. */
  readonly expirationTime?: number;
  /** If the caller names the algorithm, it must be the one the token was issued for. */
  readonly wrappingAlgorithm?: WrappingAlgorithm;
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

export interface PublicKeyResult {
  readonly keyId: string;
  readonly keySpec: MaterialSpec;
  /** base64 DER SubjectPublicKeyInfo. */
  readonly publicKey: string;
  readonly signingAlgorithms: SigningAlgorithm[];
}

export interface SignInput extends KeyRef {
  /** The raw message (1..4096 bytes); the algorithm hashes it. */
  readonly message: Uint8Array;
  readonly signingAlgorithm: SigningAlgorithm;
}

export interface SignResult {
  readonly keyId: string;
  readonly signingAlgorithm: SigningAlgorithm;
  /** RSA: the signature block; ECDSA and SM2: DER SEQUENCE { r, s }. */
  readonly signature: Uint8Array;
}

export interface VerifyInput extends SignInput {
  readonly signature: Uint8Array;
}

export interface VerifyResult {
  readonly keyId: string;
  readonly signatureValid: boolean;
}

export interface MacInput extends KeyRef {
  readonly message: Uint8Array;
  /** If given, must be the key spec's own (HMAC_SHA_256 for HMAC_256, ...). */
  readonly macAlgorithm?: MacAlgorithm;
}

export interface MacResult {
  readonly keyId: string;
  readonly macAlgorithm: MacAlgorithm;
  readonly mac: Uint8Array;
}

export interface VerifyMacInput extends MacInput {
  readonly mac: Uint8Array;
}

export interface VerifyMacResult {
  readonly keyId: string;
  readonly macValid: boolean;
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
  getPublicKey(ref: KeyRef): Promise<PublicKeyResult>;
  sign(input: SignInput): Promise<SignResult>;
  verify(input: VerifyInput): Promise<VerifyResult>;
  generateMac(input: MacInput): Promise<MacResult>;
  verifyMac(input: VerifyMacInput): Promise<VerifyMacResult>;
  close(): Promise<void>;
}
