/**
 * Which shape an import takes, decided from the token's algorithm and the key spec, and run on
 * any backend with the backend's two unwrap primitives:
 * - direct: the wrapping algorithm applied to the key itself (symmetric and HMAC keys);
 * - Huawei's two fields: `encryptedKeyMaterial` = the algorithm applied to a temporary AES-256
 *   key, `encryptedPrivateKey` = RFC 5649 wrap of the key (PKCS#8 for private keys) under it;
 * - the AWS / Vault / GCP single blob (RSA_AES_KEY_WRAP_SHA_*): RSA-OAEP(temporary key) ‖
 *   RFC 5649 wrap, split at the wrapping key's modulus length, never a hard-coded 512.
 * The temporary key is a backend handle, released (zeroized / destroyed) on every path.
 *
 * Both envelope shapes always run the key-wrap step: the backend does not refuse a temporary
 * key for bad padding but hands back a random substitute marked rejected (implicit rejection,
 * UnwrapRequest.temporaryKey), and the RFC 5649 unwrap under it fails with the same uniform
 * DECRYPT_MATERIAL_FAILED as a wrong temporary key does. So the time taken does not tell
 * whether the RSA part's padding was valid (issue 14 defect 6; bench/ct.ts measures it).
 */
import {
  envelopeKeyAlgorithm, MATERIAL_SPECS, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type MaterialSpec, type WrappingAlgorithm, type WrappingKeySpec,
} from '../algorithms/specs.js';
import type { CryptoBackend, MaterialHandle, UnwrapRequest } from '../backends/crypto-backend.js';
import { ByokError, decryptMaterialFailed } from '../errors.js';

export interface ImportUnwrapRequest {
  readonly algorithm: WrappingAlgorithm;
  readonly keySpec: WrappingKeySpec;
  readonly materialSpec: MaterialSpec;
  readonly privateKeyBlob: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly encryptedPrivateKey?: Uint8Array;
  readonly cacheKey?: string;
  readonly cacheUntil?: number;
}

export type ImportShape = 'direct' | 'two-field' | 'single-blob';

/** The shape of an import, or INVALID_PARAMETER before any private-key work is done. */
export function importShape(algorithm: WrappingAlgorithm, materialSpec: MaterialSpec, hasEncryptedPrivateKey: boolean): ImportShape {
  if (WRAPPING_ALGORITHMS[algorithm].envelope) {
    if (hasEncryptedPrivateKey) throw new ByokError('INVALID_PARAMETER', `${algorithm} carries the key in the one blob: send no encrypted private key.`);
    return 'single-blob';
  }
  if (hasEncryptedPrivateKey) {
    if (MATERIAL_SPECS[materialSpec].kind === 'symmetric') throw new ByokError('INVALID_PARAMETER', `A ${materialSpec} key is imported directly: send no encrypted private key.`);
    return 'two-field';
  }
  if (MATERIAL_SPECS[materialSpec].kind === 'private-key') {
    throw new ByokError('INVALID_PARAMETER', `A ${materialSpec} private key arrives wrapped under a temporary AES key: send encrypted_privatekey, or use RSA_AES_KEY_WRAP_SHA_256 / RSA_AES_KEY_WRAP_SHA_1.`);
  }
  return 'direct';
}

/** Run an import of the `shape` that importShape decided for this request. */
export async function unwrapImport(backend: CryptoBackend, shape: ImportShape, request: ImportUnwrapRequest): Promise<MaterialHandle> {
  // privateKeyBlob stays a getter (a spread would read it): a backend with the key cached never makes the token open it.
  const unwrapRequest = (algorithm: WrappingAlgorithm, materialSpec: MaterialSpec, ciphertext: Uint8Array, temporaryKey?: true): UnwrapRequest => ({
    keySpec: request.keySpec, algorithm, materialSpec, ciphertext, cacheKey: request.cacheKey, cacheUntil: request.cacheUntil,
    ...(temporaryKey ? { temporaryKey } : {}),
    get privateKeyBlob() {
      return request.privateKeyBlob;
    },
  });
  if (shape === 'direct') {
    return backend.unwrapMaterial(unwrapRequest(request.algorithm, request.materialSpec, request.ciphertext));
  }
  let head = request.ciphertext;
  let wrappedKey = request.encryptedPrivateKey;
  if (shape === 'single-blob') {
    const k = WRAPPING_KEY_SPECS[request.keySpec].bits / 8;
    // RFC 5649 output is at least 16 bytes: anything shorter cannot be a blob (uniform error).
    if (request.ciphertext.length < k + 16) throw decryptMaterialFailed();
    head = request.ciphertext.subarray(0, k);
    wrappedKey = request.ciphertext.subarray(k);
  }
  // Throws only for public reasons (e.g. the ciphertext length): a padding failure is a substitute key.
  const temporaryKey = await backend.unwrapMaterial(unwrapRequest(envelopeKeyAlgorithm(request.algorithm), 'AES_256', head, true));
  try {
    return await backend.unwrapWithTemporaryKey(temporaryKey, wrappedKey!, request.materialSpec);
  } finally {
    await backend.release(temporaryKey);
  }
}
