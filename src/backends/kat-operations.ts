/**
 * Known-answer operations: what the KAT runner (src/kat/) drives with the vectors' own keys.
 * They are not part of a production backend (CryptoBackend has no test-only surface): each
 * backend has its own factory (pure/kat-operations.ts, pkcs11/kat-operations.ts) that goes
 * through the same decoders and mechanisms as the import path.
 */
import type { RsaesKatParams } from '../algorithms/rsa/rsa-unwrap.js';
import type { Sm2CurveParams } from '../algorithms/sm2/curve.js';

export type { RsaesKatParams };

export interface Sm2KatOptions {
  readonly curve: Sm2CurveParams;
  readonly hash: 'sm3' | 'sha256';
  readonly mode: 'C1C3C2' | 'C1C2C3';
  readonly encoding: 'raw' | 'der';
}

/**
 * An operation a backend cannot do throws ALGORITHM_UNSUPPORTED (reported by the runner as
 * skipped, with the reason).
 */
export interface KatOperations {
  /** Decrypt with an RSA key given as PKCS#8 DER. Every failure: DECRYPT_MATERIAL_FAILED. */
  rsaesDecrypt(privateKeyPkcs8: Uint8Array, params: RsaesKatParams, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** RFC 5649 unwrap. Every failure: DECRYPT_MATERIAL_FAILED. */
  aesKwpUnwrap(kek: Uint8Array, wrapped: Uint8Array): Promise<Uint8Array>;
  /** SM2 decrypt (GM/T 0003.4) with scalar d on any curve. Every failure: DECRYPT_MATERIAL_FAILED. */
  sm2Decrypt(privateKey: Uint8Array, ciphertext: Uint8Array, options: Sm2KatOptions): Promise<Uint8Array>;
  /** Let go of what the operations hold (a device's sessions). */
  close(): Promise<void>;
}
