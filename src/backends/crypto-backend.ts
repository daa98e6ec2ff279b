/**
 * The one interface both backends implement: pure TypeScript (src/backends/pure) and PKCS#11
 * (src/backends/pkcs11). The checks both need live once in BackendBase (backend-base.ts), which
 * then calls the backend's own operation (webcrypto-core's checkX()/onX() split); one
 * conformance suite runs against both. Known-answer operations are not part of a production
 * backend: each backend has a separate factory for them (kat-operations.ts).
 *
 * Material handling is by handle so that a device backend never exposes plaintext material:
 * the pure backend's handle holds bytes (zeroized on release), the PKCS#11 one an object handle.
 */
import type { MaterialSpec, MessageType, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec } from '../algorithms/specs.js';

/** Which backend made a handle or blob. */
export type BackendId = 'pure' | 'pkcs11';

/** A wrapping key pair: the public key the customer wraps with, and the private key in the backend's form for the import token. */
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
  /**
   * How the material was unwrapped, where a backend has more than one way (for the audit
   * record). It travels on the handle only: a backend keeps no "last path" of its own.
   */
  readonly unwrapPath?: string;
}

/** What `unwrapMaterial` needs: the token's wrapping key, algorithm and material spec, and the customer's ciphertext. */
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
   * material: a device gives it CKA_UNWRAP and nothing else. A secret-dependent failure (bad
   * padding, a key of the wrong length) does not throw here: the handle is then a random
   * substitute that `unwrapWithTemporaryKey` runs on and fails with the uniform error after,
   * so whether the first layer was valid costs the same time either way (implicit rejection).
   * Public failures (ciphertext length, c >= n, unsupported) still throw here.
   */
  readonly temporaryKey?: boolean;
}

/** The capability question: can this backend hold keys of this spec (and import them wrapped this way)? */
export interface CapabilityQuery {
  readonly materialSpec: MaterialSpec;
  /** The wrapping as the import token names it (envelope algorithms included). */
  readonly wrapping?: { readonly algorithm: WrappingAlgorithm; readonly keySpec: WrappingKeySpec };
}

/** One row of a capability report: a wrapping (algorithm × key spec) or a material spec, and where it runs. */
export interface CapabilityRow {
  readonly algorithm?: WrappingAlgorithm;
  readonly keySpec?: WrappingKeySpec;
  readonly materialSpec?: MaterialSpec;
  /** In the device, on the host (an opt-in mode), or unsupported (`reason` says why). */
  readonly status: 'device' | 'host' | 'unsupported';
  readonly reason?: string;
}

/** What a backend can do, as measured on its device at start-up (GET /readyz, the start-up log). */
export interface CapabilityReport {
  readonly backend: BackendId;
  /** What the probes found (mechanism codes, yes/no facts). */
  readonly device?: Readonly<Record<string, string | boolean>>;
  readonly rows: readonly CapabilityRow[];
}

/** The crypto an engine runs on: the pure TypeScript backend or a PKCS#11 device (`byok-hsm/pkcs11`). */
export interface CryptoBackend {
  readonly id: BackendId;
  /**
   * Whether an unwrapped material's length is checked against its spec. True for the pure
   * backend; a device that cannot report the length of an unwrapped key (SoftHSM2 2.6.1 reads
   * CKA_VALUE_LEN as 0) says false, a measured gap the README's matrix names.
   */
  readonly verifiesMaterialLength: boolean;

  /**
   * The one capability question: undefined if this backend can do it, else why not (the text
   * of ALGORITHM_UNSUPPORTED). Without `wrapping`: can it hold and use keys of this material
   * spec (symmetric, HMAC, private key)? With it: can it also import such a key wrapped this
   * way — for envelope algorithms and private keys, through a temporary AES-256 key.
   */
  unsupportedReason(query: CapabilityQuery): string | undefined;

  /** Make a fresh wrapping key pair. Never blocks the event loop. */
  generateWrappingKeyPair(keySpec: WrappingKeySpec): Promise<WrappingKeyPair>;

  /**
   * A wrapping key pair is done with: its import succeeded (`imported`; a device destroys it
   * unless configured to keep it for the token's re-use), or a pool dropped it or closed
   * holding it (`unused`). A device destroys its private key now rather than at its sweep; the
   * pure backend holds nothing (the blob is in the token). Never rejects.
   */
  discardWrappingKey?(privateKeyBlob: Uint8Array, why: 'imported' | 'unused'): Promise<void>;

  /**
   * Unwrap the customer's material and check its length against the material spec.
   * Every failure throws the one error DECRYPT_MATERIAL_FAILED.
   */
  unwrapMaterial(request: UnwrapRequest): Promise<MaterialHandle>;

  /**
   * Unwrap an RFC 5649 (AES key wrap with padding) blob under a temporary AES-256 key that an
   * earlier `unwrapMaterial` produced. HMAC keys: length checked. Private keys: PKCS#8,
   * validated against the spec (INVALID_PRIVATE_KEY names the problem). A KWP failure, a
   * wrong length or a substitute temporary key is the uniform DECRYPT_MATERIAL_FAILED, after
   * the same unwrap work.
   */
  unwrapWithTemporaryKey(temporaryKey: MaterialHandle, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<MaterialHandle>;

  /** DER SubjectPublicKeyInfo of a private-key handle. */
  publicKey(handle: MaterialHandle): Promise<Uint8Array>;
  /**
   * Sign with a private-key handle: a raw message (hashed by the algorithm), or with
   * `messageType` DIGEST a digest of the algorithm's hash length.
   */
  sign(handle: MaterialHandle, algorithm: SigningAlgorithm, message: Uint8Array, messageType?: MessageType): Promise<Uint8Array>;
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

  /** Drop a handle: zeroize bytes / destroy the session object. Idempotent; never rejects. */
  release(handle: MaterialHandle): Promise<void>;

  /**
   * Readiness (GET /readyz): resolves if the backend can serve requests now, else throws
   * BACKEND_UNAVAILABLE saying why (pure: its private-key workers are alive; PKCS#11: a pooled
   * session is open and logged in). Cheap enough to call once a second.
   */
  checkReady(): Promise<void>;

  /** A device backend's start-up report of what it can do (the pure backend does everything). */
  capabilityReport?(): CapabilityReport;

  /** Release the backend's resources: worker threads, sessions, the device. */
  close(): Promise<void>;
}
