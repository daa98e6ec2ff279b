/**
 * The checks both backends need, done once, before the backend's own operation (webcrypto-core's
 * checkX() then onX()): the handle is this backend's, the key's kind allows the use, the
 * combination is supported (the one capability question), the public lengths are right. A
 * backend implements only the `on…` operations and the two capability facts it alone knows.
 */
import {
  checkDigestLength, envelopeKeyAlgorithm, MATERIAL_SPECS, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS,
  type MaterialSpec, type MessageType, type SigningAlgorithm, type WrappingAlgorithm, type WrappingKeySpec,
} from '../algorithms/specs.js';
import { ByokError, decryptMaterialFailed } from '../errors.js';
import type {
  BackendId, CapabilityQuery, CryptoBackend, MaterialHandle, UnwrapRequest, WrappingKeyPair,
} from './crypto-backend.js';

/** The layout both backends share for encrypt / decrypt: iv(12) ‖ ciphertext ‖ tag(16). */
export const GCM_IV_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;

/** Domain of the material fingerprint (a PRF keyed by the material, see fingerprintMaterial). */
const FINGERPRINT_DOMAIN = 'byok/material-fingerprint/v1\0';

/** What a backend's handle carries beyond MaterialHandle. */
export interface BackendHandle extends MaterialHandle {
  /** Private keys: the DER SubjectPublicKeyInfo checked at import (or generation). */
  readonly publicKeySpki?: Uint8Array;
  /**
   * A temporary key whose own unwrap failed (bad padding, or a key of the wrong length): a
   * random substitute, so that the next layer's unwrap runs all the same (implicit rejection,
   * the countermeasure of RFC 5246 §7.4.7.1). onUnwrapWithTemporaryKey must then fail with the
   * uniform error after its unwrap, and never validate what that unwrap gave.
   */
  readonly rejected?: boolean;
}

export abstract class BackendBase<H extends BackendHandle> implements CryptoBackend {
  abstract readonly id: BackendId;
  abstract readonly verifiesMaterialLength: boolean;

  /** Is this handle one of this backend's? */
  protected abstract owns(handle: MaterialHandle): handle is H;
  /** Why keys of this spec cannot be held and used here, or undefined. */
  protected abstract materialUnsupportedReason(materialSpec: MaterialSpec): string | undefined;
  /**
   * Why a wrapping key of this spec cannot unwrap with this algorithm here (the families match
   * and the material spec is supported: the base checked), or undefined.
   */
  protected abstract wrappingUnsupportedReason(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec): string | undefined;
  /** Why a temporary AES-256 key (envelopes, private keys) cannot unwrap the next layer here, or undefined. */
  protected temporaryKeyUnsupportedReason(): string | undefined {
    return undefined;
  }

  protected abstract onUnwrapMaterial(request: UnwrapRequest): Promise<H>;
  protected abstract onUnwrapWithTemporaryKey(temporaryKey: H, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<H>;
  protected abstract onSign(handle: H, algorithm: SigningAlgorithm, message: Uint8Array, messageType: MessageType): Promise<Uint8Array>;
  protected abstract onGenerateMac(handle: H, message: Uint8Array): Promise<Uint8Array>;
  protected abstract onGenerateMaterial(materialSpec: MaterialSpec): Promise<H>;
  /** A PRF keyed by the material over `message` (HMAC for HMAC keys; HMAC or CMAC otherwise). */
  protected abstract onFingerprint(handle: H, message: Uint8Array): Promise<Uint8Array>;
  protected abstract onPersist(handle: H, keyId: string): Promise<Uint8Array>;
  protected abstract onEncrypt(handle: H, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** `ciphertext` is at least iv ‖ tag long (checked). */
  protected abstract onDecrypt(handle: H, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  protected abstract onRelease(handle: H): Promise<void>;

  abstract generateWrappingKeyPair(keySpec: WrappingKeySpec): Promise<WrappingKeyPair>;
  abstract loadMaterial(stored: Uint8Array, materialSpec: MaterialSpec, keyId: string): Promise<MaterialHandle>;
  abstract destroyPersistedMaterial(stored: Uint8Array, keyId: string): Promise<void>;
  abstract checkReady(): Promise<void>;
  abstract close(): Promise<void>;

  // ---- the capability question ----------------------------------------------------------------

  unsupportedReason(query: CapabilityQuery): string | undefined {
    const material = this.materialUnsupportedReason(query.materialSpec);
    if (material !== undefined || !query.wrapping) return material;
    const { algorithm, keySpec } = query.wrapping;
    // Envelope algorithms and private keys: the wrapping key unwraps a temporary AES-256 key.
    const viaTemporaryKey = WRAPPING_ALGORITHMS[algorithm].envelope || MATERIAL_SPECS[query.materialSpec].kind === 'private-key';
    return viaTemporaryKey
      ? this.directUnwrapUnsupportedReason(envelopeKeyAlgorithm(algorithm), keySpec, 'AES_256', true)
      : this.directUnwrapUnsupportedReason(algorithm, keySpec, query.materialSpec);
  }

  /** Why `unwrapMaterial` cannot unwrap material of this spec with this algorithm and key, or undefined. */
  private directUnwrapUnsupportedReason(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec, materialSpec: MaterialSpec, temporaryKey = false): string | undefined {
    if (WRAPPING_ALGORITHMS[algorithm].family !== WRAPPING_KEY_SPECS[keySpec].family) return `${algorithm} cannot be used with ${keySpec}.`;
    // A temporary key only unwraps the next layer: it needs what that takes, not what AES material does.
    const material = temporaryKey ? this.temporaryKeyUnsupportedReason() : this.materialUnsupportedReason(materialSpec);
    if (material !== undefined) return material;
    // Private keys arrive under a temporary AES key (unwrapWithTemporaryKey unwraps them).
    if (MATERIAL_SPECS[materialSpec].kind === 'private-key') return `A ${materialSpec} key is not wrapped directly.`;
    return this.wrappingUnsupportedReason(algorithm, keySpec);
  }

  // ---- checks, then the backend's operation ---------------------------------------------------

  /** Precondition: the handle was made by this backend. */
  protected own(handle: MaterialHandle): H {
    if (!this.owns(handle)) throw new ByokError('INTERNAL_ERROR', 'Handle from another backend.');
    return handle;
  }

  /** Precondition: only symmetric keys encrypt (an HMAC key must never become an AES key). */
  private symmetric(handle: MaterialHandle): H {
    const h = this.own(handle);
    if (MATERIAL_SPECS[h.materialSpec].kind !== 'symmetric') throw new ByokError('INVALID_KEY_USAGE');
    return h;
  }

  /** Precondition: a private key (only those have a public key). */
  private privateKey(handle: MaterialHandle): H & { readonly publicKeySpki: Uint8Array } {
    const h = this.own(handle);
    if (!h.publicKeySpki) throw new ByokError('INVALID_KEY_USAGE');
    return h as H & { readonly publicKeySpki: Uint8Array };
  }

  async unwrapMaterial(request: UnwrapRequest): Promise<MaterialHandle> {
    const reason = this.directUnwrapUnsupportedReason(request.algorithm, request.keySpec, request.materialSpec, request.temporaryKey);
    if (reason !== undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', reason);
    // Public check first, as RFC 8017 §7.1.2 / §7.2.2 step 1 do: an RSA ciphertext is k bytes.
    const key = WRAPPING_KEY_SPECS[request.keySpec];
    if (key.family === 'RSA' && request.ciphertext.length !== key.bits / 8) throw decryptMaterialFailed();
    return this.onUnwrapMaterial(request);
  }

  async unwrapWithTemporaryKey(temporaryKey: MaterialHandle, wrapped: Uint8Array, materialSpec: MaterialSpec): Promise<MaterialHandle> {
    const kek = this.own(temporaryKey);
    const reason = this.materialUnsupportedReason(materialSpec);
    if (reason !== undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', reason);
    // The temporary key is AES-256; RFC 5649 §4.2 output is whole 64-bit blocks, at least two.
    if (kek.materialSpec !== 'AES_256' || wrapped.length < 16 || wrapped.length % 8 !== 0) throw decryptMaterialFailed();
    return this.onUnwrapWithTemporaryKey(kek, wrapped, materialSpec);
  }

  async publicKey(handle: MaterialHandle): Promise<Uint8Array> {
    return this.privateKey(handle).publicKeySpki;
  }

  async sign(handle: MaterialHandle, algorithm: SigningAlgorithm, message: Uint8Array, messageType: MessageType = 'RAW'): Promise<Uint8Array> {
    const key = this.privateKey(handle);
    /* Precondition: a digest is exactly as long as the algorithm's hash. */
    checkDigestLength(algorithm, messageType, message);
    return this.onSign(key, algorithm, message, messageType);
  }

  async generateMac(handle: MaterialHandle, message: Uint8Array): Promise<Uint8Array> {
    const h = this.own(handle);
    if (MATERIAL_SPECS[h.materialSpec].kind !== 'hmac') throw new ByokError('INVALID_KEY_USAGE');
    return this.onGenerateMac(h, message);
  }

  async generateMaterial(materialSpec: MaterialSpec): Promise<MaterialHandle> {
    const reason = this.materialUnsupportedReason(materialSpec);
    if (reason !== undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', reason);
    return this.onGenerateMaterial(materialSpec);
  }

  async fingerprintMaterial(handle: MaterialHandle, keyId: string): Promise<Uint8Array> {
    const h = this.own(handle);
    return this.onFingerprint(h, new Uint8Array(Buffer.from(`${FINGERPRINT_DOMAIN}${keyId}\0${h.materialSpec}`, 'utf8')));
  }

  async persistMaterial(handle: MaterialHandle, keyId: string): Promise<Uint8Array> {
    return this.onPersist(this.own(handle), keyId);
  }

  async encrypt(handle: MaterialHandle, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    return this.onEncrypt(this.symmetric(handle), plaintext, aad);
  }

  async decrypt(handle: MaterialHandle, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const h = this.symmetric(handle);
    if (ciphertext.length < GCM_IV_LENGTH + GCM_TAG_LENGTH) throw new ByokError('CIPHERTEXT_INVALID');
    return this.onDecrypt(h, ciphertext, aad);
  }

  async release(handle: MaterialHandle): Promise<void> {
    await this.onRelease(this.own(handle));
  }
}
