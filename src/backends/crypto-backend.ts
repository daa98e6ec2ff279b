/**
 * The one interface both backends implement: pure TypeScript (src/backends/pure) and PKCS#11
 * (native-bindings/). The engine validates inputs, then calls the backend for the crypto only
 * (webcrypto-core's checkX()/onX() split); one conformance suite runs against both.
 *
 * Material handling is by handle so that a device backend never exposes plaintext material:
 * the pure backend's handle holds bytes (zeroized on release), the PKCS#11 one an object handle.
 */
import type { MaterialSpec, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec } from '../algorithms/specs.js';
import type { Sm2CurveParams } from '../algorithms/sm2/curve.js';

export type BackendId = 'pure' | 'pkcs11';

export interface WrappingKeyPair {
  readonly keySpec: WrappingKeySpec;
  /** DER SubjectPublicKeyInfo (for SM2: id-ecPublicKey with curve OID 1.2.156.10197.1.301). */
  readonly publicKeySpki: Uint8Array;
  /**
   * Backend-specific private-key blob that the token layer seals into the import token.
   * pure: PKCS#8 DER (secret; the caller zeroizes it once sealed).
   * pkcs11: the private key wrapped under a device-resident AES key, or a CKA_ID reference.
   */
  readonly privateKeyBlob: Uint8Array;
}

/** An unwrapped (or generated) key held by the backend. Opaque outside the backend. */
export interface MaterialHandle {
  readonly backend: BackendId;
  readonly materialSpec: MaterialSpec;
  /** How the material was unwrapped, where a backend has more than one way (for the audit record). */
  readonly unwrapPath?: string;
}

export interface UnwrapRequest {
  readonly keySpec: WrappingKeySpec;
  readonly algorithm: WrappingAlgorithm;
  readonly materialSpec: MaterialSpec;
  /** The blob from `generateWrappingKeyPair`, as the token carried it. */
  readonly privateKeyBlob: Uint8Array;
  readonly ciphertext: Uint8Array;
  /**
   * Optional cache key for the parsed wrapping private key (e.g. a digest of the token), and the
   * time (ms since epoch) after which the cached entry must be dropped.
   */
  readonly cacheKey?: string;
  readonly cacheUntil?: number;
  /**
   * The result is a temporary AES-256 key that only unwraps the next layer (RFC 5649), never
   * material: a device gives it CKA_UNWRAP and nothing else.
   */
  readonly temporaryKey?: boolean;
}

/** RSAES decrypt parameters for the known-answer runner (any hash pair, any label). */
export type RsaesKatParams =
  | { readonly padding: 'oaep'; readonly hash: string; readonly mgf1Hash: string; readonly label: Uint8Array }
  | { readonly padding: 'pkcs1v15' };

/**
 * Low-level operations the KAT runner drives with the vectors' own keys. They go through the
 * same decoders as the import path. An operation a backend cannot do throws
 * ALGORITHM_UNSUPPORTED (reported by the runner as skipped, with the reason).
 */
export interface KatOperations {
  /** Decrypt with an RSA key given as PKCS#8 DER. Every failure: DECRYPT_MATERIAL_FAILED. */
  rsaesDecrypt(privateKeyPkcs8: Uint8Array, params: RsaesKatParams, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** RFC 5649 unwrap. Every failure: DECRYPT_MATERIAL_FAILED. */
  aesKwpUnwrap(kek: Uint8Array, wrapped: Uint8Array): Promise<Uint8Array>;
  /** SM2 decrypt (GM/T 0003.4) with scalar d on any curve. Every failure: DECRYPT_MATERIAL_FAILED. */
  sm2Decrypt(privateKey: Uint8Array, ciphertext: Uint8Array, options: Sm2KatOptions): Promise<Uint8Array>;
}

export interface Sm2KatOptions {
  readonly curve: Sm2CurveParams;
  readonly hash: 'sm3' | 'sha256';
  readonly mode: 'C1C3C2' | 'C1C2C3';
  readonly encoding: 'raw' | 'der';
}

export interface CryptoBackend {
  readonly id: BackendId;
  /**
   * Whether an unwrapped material's length is checked against its spec. True for the pure
   * backend; a device that cannot report the length of an unwrapped key (SoftHSM2 2.6.1 reads
   * CKA_VALUE_LEN as 0) says false, a measured gap the README's matrix names.
   */
  readonly verifiesMaterialLength: boolean;

  /** Can this backend do algorithm × wrapping key spec × material spec? The engine refuses the rest. */
  supports(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec, materialSpec: MaterialSpec): boolean;
  /** Human-readable reason when `supports` is false (for ALGORITHM_UNSUPPORTED details and docs). */
  unsupportedReason(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec, materialSpec: MaterialSpec): string | undefined;

  /**
   * Can this backend hold and use keys of this spec (symmetric, HMAC, private key)? Undefined if
   * it can, else the reason (the engine refuses with ALGORITHM_UNSUPPORTED and this text).
   */
  keySpecUnsupportedReason(materialSpec: MaterialSpec): string | undefined;

  /** Make a fresh wrapping key pair. Never blocks the event loop. */
  generateWrappingKeyPair(keySpec: WrappingKeySpec): Promise<WrappingKeyPair>;

  /**
   * Unwrap the customer's material and check its length against the material spec.
   * Every failure throws the one error DECRYPT_MATERIAL_FAILED.
   */
  unwrapMaterial(request: UnwrapRequest): Promise<MaterialHandle>;

  /**
   * Unwrap an RFC 5649 (AES key wrap with padding) blob under a temporary AES-256 key that an
   * earlier `unwrapMaterial` produced. HMAC keys: length checked. Private keys: PKCS#8,
   * validated against the spec (INVALID_PRIVATE_KEY names the problem). A KWP failure or a
   * wrong length is the uniform DECRYPT_MATERIAL_FAILED.
   */
  unwrapWithTemporaryKey(temporaryKey: MaterialHandle, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<MaterialHandle>;

  /** DER SubjectPublicKeyInfo of a private-key handle. */
  publicKey(handle: MaterialHandle): Promise<Uint8Array>;
  /** Sign a raw message (hashed by the algorithm) with a private-key handle. */
  sign(handle: MaterialHandle, algorithm: SigningAlgorithm, message: Uint8Array): Promise<Uint8Array>;
  /** HMAC of a message with an HMAC-key handle (the hash is the spec's). */
  generateMac(handle: MaterialHandle, message: Uint8Array): Promise<Uint8Array>;

  /** Fresh random material made inside the backend (keys of origin KMS). */
  generateMaterial(materialSpec: MaterialSpec): Promise<MaterialHandle>;

  /**
   * A PRF of the material over a domain-separated, key-ID-bound message (the material is the
   * PRF key, e.g. HMAC or CMAC keyed by it). Reveals nothing about the material; equal
   * material under the same key ID gives equal output. The engine keys it once more.
   */
  fingerprintMaterial(handle: MaterialHandle, keyId: string): Promise<Uint8Array>;

  /** Durable form of the material: sealed under the master key (pure) or a device object reference (PKCS#11). */
  persistMaterial(handle: MaterialHandle, keyId: string): Promise<Uint8Array>;
  /** Inverse of persistMaterial. */
  loadMaterial(stored: Uint8Array, materialSpec: MaterialSpec, keyId: string): Promise<MaterialHandle>;
  /** Forget durable material (deleted or expired): a device destroys the object. */
  destroyPersistedMaterial(stored: Uint8Array, keyId: string): Promise<void>;

  /** Authenticated encryption with the material; output format documented per material spec. */
  encrypt(handle: MaterialHandle, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** Inverse of encrypt. Any failure: CIPHERTEXT_INVALID. */
  decrypt(handle: MaterialHandle, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;

  /** Drop a handle: zeroize bytes / destroy the session object. Idempotent. */
  release(handle: MaterialHandle): void;

  readonly kat: KatOperations;

  close(): Promise<void>;
}
