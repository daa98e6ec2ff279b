/**
 * The import engine's public API: what a KMS server embeds, over either backend.
 * Times on this surface are seconds since the epoch (as the seeds' APIs use). Inputs are
 * literal unions, so a misspelt algorithm or spec fails `tsc`; the engine still checks them at
 * run time for JS callers and the wire dialects.
 */
import type { KeyUsage, MacAlgorithm, MaterialSpec, MessageType, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec } from '../algorithms/specs.js';
import type { KeyDescription, KeyOrigin, KeyState } from '../store/key-store.js';

/** The record model lives with the store (which never imports the engine); named here too. */
export type { KeyOrigin, KeyState } from '../store/key-store.js';
export type { MessageType } from '../algorithms/specs.js';

/** `createKey`: a new key of a tenant, waiting for imported material (EXTERNAL) or with material made by the engine (KMS). */
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

/** What `describeKey`, `listKeys` and the life-cycle calls return about a key: never its material. */
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

/** Names one key of one tenant; another tenant's key is KEY_NOT_FOUND, as a missing one is. */
export interface KeyRef {
  readonly tenant: string;
  /** The key ID, or one of the tenant's aliases, `alias/<name>`, resolved by the engine. */
  readonly keyId: string;
}

/** `listKeys` / `listAliases`: one page, after the `marker` a previous page returned. */
export interface PageInput {
  readonly tenant: string;
  /** 1..1000 entries (default 100). */
  readonly limit?: number;
  /** The `nextMarker` of the previous page; absent: the first page. */
  readonly marker?: string;
}

/** `listKeys` with a page, of the keys in one state or of one spec if asked (Huawei's filters). */
export interface ListKeysInput extends PageInput {
  /** The effective state (an expired import counts as PendingImport). */
  readonly keyState?: KeyState;
  readonly keySpec?: MaterialSpec;
}

/** One page of the tenant's keys, oldest first. */
export interface KeyList {
  readonly keys: KeyMetadata[];
  /** Whether more follow: then `nextMarker` asks for them. */
  readonly truncated: boolean;
  readonly nextMarker?: string;
  /** How many keys the tenant has (that pass the filters). */
  readonly total: number;
}

/** `createAlias`: a name for a key of the tenant, unique in the tenant; a key may have several. */
export interface CreateAliasInput {
  readonly tenant: string;
  /** `alias/` then 1..250 of [A-Za-z0-9/_-]; `alias/aws/` is reserved (AWS's rule). */
  readonly aliasName: string;
  /** The key ID (not another alias). */
  readonly keyId: string;
}

/** `deleteAlias`: which alias of the tenant. */
export interface AliasRef {
  readonly tenant: string;
  readonly aliasName: string;
}

/** `listAliases`: the tenant's aliases, or only those of one key. */
export interface ListAliasesInput extends PageInput {
  readonly keyId?: string;
}

/** An alias and the key it names. */
export interface AliasEntry {
  readonly aliasName: string;
  readonly keyId: string;
  /** Seconds since the epoch. */
  readonly createdAt: number;
}

/** One page of aliases, by name. */
export interface AliasList {
  readonly aliases: AliasEntry[];
  readonly truncated: boolean;
  readonly nextMarker?: string;
}

/** The two data key lengths the cloud APIs name: 16 and 32 bytes. */
export type DataKeySpec = 'AES_128' | 'AES_256';

/** `generateDataKey`: a fresh random data key encrypted under a symmetric key. */
export interface GenerateDataKeyInput extends KeyRef {
  /** 1..1024 bytes; or give `keySpec`; neither: 32 bytes. */
  readonly numberOfBytes?: number;
  readonly keySpec?: DataKeySpec;
  /** Associated data the blob is bound to: `decrypt` needs the same. */
  readonly aad?: Uint8Array;
  /** Also return the plaintext data key (GenerateDataKey), or only the blob (…WithoutPlaintext). */
  readonly withPlaintext: boolean;
}

/** The data key as a ciphertext blob that `decrypt` opens, and (if asked) in plaintext: the caller zeroizes it. */
export interface DataKeyResult {
  readonly keyId: string;
  readonly ciphertextBlob: Uint8Array;
  readonly plaintext?: Uint8Array;
}

/** `reEncrypt`: a blob of one key, decrypted and encrypted under another inside the engine. */
export interface ReEncryptInput {
  readonly tenant: string;
  readonly ciphertextBlob: Uint8Array;
  readonly sourceAad?: Uint8Array;
  /** If given, the blob's key must be this one. */
  readonly sourceKeyId?: string;
  /** Absent: the blob's own key (a fresh IV and the destination AAD). */
  readonly destinationKeyId?: string;
  readonly destinationAad?: Uint8Array;
}

/** The new blob, with the keys it came from and is under. */
export interface ReEncryptResult {
  readonly sourceKeyId: string;
  readonly keyId: string;
  readonly ciphertextBlob: Uint8Array;
}

/** `getParametersForImport`: which wrapping algorithm (and key spec) the customer will wrap with. */
export interface GetParametersForImportInput extends KeyRef {
  readonly wrappingAlgorithm: WrappingAlgorithm;
  /** Default RSA_2048 for RSA algorithms, SM2 for SM2_ENCRYPT. */
  readonly wrappingKeySpec?: WrappingKeySpec;
}

/** A fresh wrapping public key and the import token bound to it, the key and the algorithm. */
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

/** `importKeyMaterial`: the import token and the material wrapped under its public key. */
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

/** The key after a successful import: enabled, with its material's expiry and check value. */
export interface ImportResult {
  readonly keyId: string;
  readonly state: KeyState;
  readonly materialExpiresAt: number | null;
  readonly keyCheckValue: string;
}

/** `scheduleKeyDeletion`: the key and how many days until it is deleted. */
export interface ScheduleDeletionInput extends KeyRef {
  /** 7..1096 days (the seeds' window); default 30. */
  readonly pendingDays?: number;
}

/** `encrypt`: plaintext (and optional AAD) for a symmetric key's AES-256-GCM or SM4-GCM. */
export interface EncryptInput extends KeyRef {
  readonly plaintext: Uint8Array;
  readonly aad?: Uint8Array;
}

/** `decrypt`: a ciphertext blob made by `encrypt` (or by the customer with its own material). */
export interface DecryptInput {
  readonly tenant: string;
  /** The ciphertext blob names its key (Tencent's Decrypt takes no KeyId). */
  readonly ciphertextBlob: Uint8Array;
  /** If given, the blob's key must be this one. */
  readonly keyId?: string;
  readonly aad?: Uint8Array;
}

/** The ciphertext blob: `0x01 ‖ key ID ‖ iv ‖ ciphertext ‖ tag`. */
export interface EncryptResult {
  readonly keyId: string;
  readonly ciphertextBlob: Uint8Array;
}

/** The plaintext, and the key the blob named. */
export interface DecryptResult {
  readonly keyId: string;
  readonly plaintext: Uint8Array;
}

/** `getPublicKey`: an asymmetric key's public key and the signing algorithms it allows. */
export interface PublicKeyResult {
  readonly keyId: string;
  readonly keySpec: MaterialSpec;
  /** base64 DER SubjectPublicKeyInfo. */
  readonly publicKey: string;
  readonly signingAlgorithms: SigningAlgorithm[];
}

/** `sign`: a raw message (or its digest) and the signing algorithm. */
export interface SignInput extends KeyRef {
  /** RAW: the message (1..4096 bytes), hashed by the algorithm. DIGEST: its hash, as long as the algorithm's. */
  readonly message: Uint8Array;
  readonly signingAlgorithm: SigningAlgorithm;
  /** Default RAW. */
  readonly messageType?: MessageType;
}

/** The signature and the algorithm that made it. */
export interface SignResult {
  readonly keyId: string;
  readonly signingAlgorithm: SigningAlgorithm;
  /** RSA: the signature block; ECDSA and SM2: DER SEQUENCE { r, s }. */
  readonly signature: Uint8Array;
}

/** `verify`: the message, the algorithm and the signature to check. */
export interface VerifyInput extends SignInput {
  readonly signature: Uint8Array;
}

/** Whether the signature is valid. */
export interface VerifyResult {
  readonly keyId: string;
  readonly signatureValid: boolean;
}

/** `generateMac`: a message for an HMAC key. */
export interface MacInput extends KeyRef {
  readonly message: Uint8Array;
  /** If given, must be the key spec's own (HMAC_SHA_256 for HMAC_256, ...). */
  readonly macAlgorithm?: MacAlgorithm;
}

/** The MAC and the HMAC algorithm that made it. */
export interface MacResult {
  readonly keyId: string;
  readonly macAlgorithm: MacAlgorithm;
  readonly mac: Uint8Array;
}

/** `verifyMac`: the message and the MAC to check (compared in constant time). */
export interface VerifyMacInput extends MacInput {
  readonly mac: Uint8Array;
}

/** Whether the MAC is valid. */
export interface VerifyMacResult {
  readonly keyId: string;
  readonly macValid: boolean;
}

/** What the service (src/server) and the CLI code against. */
export interface Engine {
  /** Create a key: PendingImport (origin EXTERNAL) or Enabled with engine-made material (origin KMS). */
  createKey(input: CreateKeyInput): Promise<KeyMetadata>;
  /** The key's metadata, with its effective state. */
  describeKey(ref: KeyRef): Promise<KeyMetadata>;
  /** Every key of the tenant, oldest first. */
  listKeys(tenant: string): Promise<KeyMetadata[]>;
  /** One page of the tenant's keys, oldest first. */
  listKeys(input: ListKeysInput): Promise<KeyList>;
  /** A fresh wrapping key pair: its public key (base64 DER SPKI) and an import token bound to it. */
  getParametersForImport(input: GetParametersForImportInput): Promise<ImportParameters>;
  /** Verify the token, unwrap, match the material on re-import, store it sealed and enable the key. */
  importKeyMaterial(input: ImportKeyMaterialInput): Promise<ImportResult>;
  /** Delete the imported material (the key returns to PendingImport); its commitment stays, so only the same material can return. */
  deleteKeyMaterial(ref: KeyRef): Promise<KeyMetadata>;
  /** Enable a disabled key. */
  enableKey(ref: KeyRef): Promise<KeyMetadata>;
  /** Disable an enabled key: it can no longer be used. */
  disableKey(ref: KeyRef): Promise<KeyMetadata>;
  /** Schedule the key's deletion after 7 to 1096 days (PendingDeletion). */
  scheduleKeyDeletion(input: ScheduleDeletionInput): Promise<KeyMetadata>;
  /** Cancel a scheduled deletion: the key becomes Disabled. */
  cancelKeyDeletion(ref: KeyRef): Promise<KeyMetadata>;
  /** Encrypt with a symmetric key's material (AES-256-GCM or SM4-GCM). */
  encrypt(input: EncryptInput): Promise<EncryptResult>;
  /** Decrypt a ciphertext blob; the blob names its key. */
  decrypt(input: DecryptInput): Promise<DecryptResult>;
  /** An asymmetric key's public key (base64 DER SPKI). */
  getPublicKey(ref: KeyRef): Promise<PublicKeyResult>;
  /** Sign a raw message with an asymmetric key. */
  sign(input: SignInput): Promise<SignResult>;
  /** Verify a signature with an asymmetric key. */
  verify(input: VerifyInput): Promise<VerifyResult>;
  /** A random data key, encrypted under a symmetric key (and in plaintext if asked). */
  generateDataKey(input: GenerateDataKeyInput): Promise<DataKeyResult>;
  /** Decrypt under one key and encrypt under another; the plaintext never leaves the engine. */
  reEncrypt(input: ReEncryptInput): Promise<ReEncryptResult>;
  /** 1..1024 random bytes. */
  generateRandom(numberOfBytes: number): Promise<Uint8Array>;
  /** Name a key of the tenant; ALIAS_EXISTS if the tenant already uses the name. */
  createAlias(input: CreateAliasInput): Promise<AliasEntry>;
  /** Remove an alias (the key stays). */
  deleteAlias(ref: AliasRef): Promise<void>;
  /** One page of the tenant's aliases (or one key's), by name. */
  listAliases(input: ListAliasesInput): Promise<AliasList>;
  /** HMAC of a message with an HMAC key. */
  generateMac(input: MacInput): Promise<MacResult>;
  /** Verify an HMAC in constant time. */
  verifyMac(input: VerifyMacInput): Promise<VerifyMacResult>;
  /** Close what the engine opened (a store or backend passed in stays the caller's). */
  close(): Promise<void>;
}
