/**
 * Client-side wrap: what the seeds tell a customer to do with `openssl pkeyutl`, as a library
 * function. The public key may be the API's base64, DER or PEM.
 */
import { constants, createPrivateKey, createPublicKey, publicEncrypt, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import smCrypto from 'sm-crypto';
import { aesKwpWrap } from '../algorithms/aes-kwp.js';
import { sm2PublicKeyFromSpki } from '../algorithms/sm2/index.js';
import {
  envelopeKeyAlgorithm, parseWrappingAlgorithm, WRAPPING_ALGORITHMS, type WrappingAlgorithm, type WrappingAlgorithmAlias,
} from '../algorithms/specs.js';
import { concatBytes, toHex, zeroize } from '../bytes.js';
import { ByokError, isByokError } from '../errors.js';

/** A wrapping algorithm by its name or an accepted alias (SM2PKE). */
export type WrappingAlgorithmName = WrappingAlgorithm | WrappingAlgorithmAlias;

/** What {@link wrapMaterial} encrypts, and for which import public key. */
export interface WrapInput {
  /** The import public key: base64 DER SPKI (as the API returns it), DER bytes, or PEM text. */
  readonly publicKey: string | Uint8Array;
  /** The wrapping algorithm named in get-parameters-for-import. */
  readonly algorithm: WrappingAlgorithmName;
  /** The bytes to encrypt (a symmetric or HMAC key, or a temporary AES key). */
  readonly material: Uint8Array;
}

function publicKeyDer(publicKey: string | Uint8Array): Buffer {
  const text = typeof publicKey === 'string' ? publicKey : Buffer.from(publicKey).toString('latin1');
  if (text.includes('-----BEGIN')) {
    try {
      return createPublicKey(text).export({ type: 'spki', format: 'der' });
    } catch (cause) {
      // OpenSSL's message ("DECODER routines::unsupported") is no use to a caller: one clear error.
      throw new ByokError('INVALID_PARAMETER', 'The public key is not a valid PEM public key.', { cause });
    }
  }
  if (typeof publicKey === 'string') {
    const der = Buffer.from(publicKey.replace(/\s+/g, ''), 'base64');
    if (der.length === 0) throw new ByokError('INVALID_PARAMETER', 'The public key is not base64, DER or PEM.');
    return der;
  }
  return Buffer.from(publicKey);
}

/**
 * The uncompressed SM2 point (hex) of an SM2 SPKI, read by its curve OID and checked on the
 * curve: Node 20 reports a parsed SM2 public key's type as undefined.
 */
function sm2PointHex(der: Buffer): string {
  try {
    return toHex(sm2PublicKeyFromSpki(new Uint8Array(der)));
  } catch (cause) {
    if (!isByokError(cause)) throw cause;
    throw new ByokError('INVALID_PARAMETER', 'SM2_ENCRYPT needs an SM2 public key.', { cause });
  }
}

/**
 * Encrypt key material for an import public key, as the customer's side of the import:
 * RSAES-OAEP (SHA-256 or SHA-1, MGF1 with the same hash), RSAES-PKCS1-v1_5, or SM2 encryption
 * (GM/T 0003.4, C1 ‖ C3 ‖ C2 with C1 as an uncompressed point). Returns the raw ciphertext;
 * the wire APIs carry it as base64.
 */
export function wrapMaterial(input: WrapInput): Uint8Array {
  const algorithm = parseWrappingAlgorithm(input.algorithm);
  if (WRAPPING_ALGORITHMS[algorithm].envelope) return wrapForImport({ ...input, algorithm }).encryptedKeyMaterial;
  const der = publicKeyDer(input.publicKey);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (cause) {
    throw new ByokError('INVALID_PARAMETER', 'The public key is not a DER SubjectPublicKeyInfo.', { cause });
  }
  const padding = WRAPPING_ALGORITHMS[algorithm].rsaPadding;
  if (!(input.material instanceof Uint8Array) || input.material.length === 0) {
    throw new ByokError('INVALID_PARAMETER', 'The key material is empty.');
  }
  if (!padding) {
    // No SM2 encrypt in src/algorithms/sm2 (decrypt only), so sm-crypto as a customer would use it.
    // sm-crypto: cipherMode 1 = C1C3C2; its hex omits the 04 of C1, which we add back.
    const hex = smCrypto.sm2.doEncrypt(Array.from(input.material), sm2PointHex(der), 1);
    return new Uint8Array(Buffer.from('04' + hex, 'hex'));
  }
  if (key.asymmetricKeyType !== 'rsa') throw new ByokError('INVALID_PARAMETER', `${algorithm} needs an RSA public key.`);
  const out = padding.kind === 'pkcs1v15'
    ? publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, input.material)
    : publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.hash }, input.material);
  return new Uint8Array(out);
}

/** A private key as {@link privateKeyToPkcs8} reads it: PEM text, DER bytes, or a private JWK (RSA, EC). */
export type PrivateKeyInput = string | Uint8Array | JsonWebKey;

/**
 * A private key as PKCS#8 DER, from PEM or DER in PKCS#8, SEC1 ("EC PRIVATE KEY") or PKCS#1
 * ("RSA PRIVATE KEY") form — the conversion `openssl pkcs8 -topk8 -nocrypt` does — or from a
 * private JWK (RFC 7517; RSA and EC, not SM2, which Node has no JWK for). The service takes
 * PKCS#8 only; this is the customer's side, where converting is a convenience.
 */
export function privateKeyToPkcs8(privateKey: PrivateKeyInput): Uint8Array {
  let attempts: Parameters<typeof createPrivateKey>[0][];
  if (typeof privateKey !== 'string' && !(privateKey instanceof Uint8Array)) {
    attempts = [{ key: privateKey, format: 'jwk' }];
  } else {
    const bytes = typeof privateKey === 'string' ? Buffer.from(privateKey, 'utf8') : Buffer.from(privateKey);
    attempts = bytes.includes('-----BEGIN')
      ? [{ key: bytes.toString('utf8') }]
      : (['pkcs8', 'sec1', 'pkcs1'] as const).map((type) => ({ key: bytes, format: 'der' as const, type }));
  }
  for (const attempt of attempts) {
    try {
      return new Uint8Array(createPrivateKey(attempt).export({ type: 'pkcs8', format: 'der' }));
    } catch { /* next form */ }
  }
  // No `cause`: a parse error of the customer's private key is not chained on to logs.
  throw new ByokError('INVALID_PARAMETER', 'The private key is not PEM or DER in PKCS#8, SEC1 or PKCS#1 form, nor a private RSA or EC JWK (encrypted keys are not read).');
}

/** What {@link wrapForImport} wraps: exactly one of `material` and `privateKey`. */
export interface WrapForImportInput {
  /** The import public key: base64 DER SPKI (as the API returns it), DER bytes, or PEM text. */
  readonly publicKey: string | Uint8Array;
  /** The wrapping algorithm named in get-parameters-for-import. */
  readonly algorithm: WrappingAlgorithmName;
  /** Symmetric or HMAC key bytes. */
  readonly material?: Uint8Array;
  /** An asymmetric private key (PEM or DER in PKCS#8, SEC1 or PKCS#1; or a private JWK). */
  readonly privateKey?: PrivateKeyInput;
}

/** The fields of import-key-material, as bytes (the wire APIs carry them as base64). */
export interface WrappedForImport {
  /** encrypted_key_material: the key, the temporary key, or the single RSA_AES_KEY_WRAP blob. */
  readonly encryptedKeyMaterial: Uint8Array;
  /** encrypted_privatekey (Huawei's second field), when the key travels under a temporary key. */
  readonly encryptedPrivateKey?: Uint8Array;
}

/**
 * Everything the import API can take, for one key:
 * - RSA_AES_KEY_WRAP_SHA_256 / _SHA_1: one blob, RSA-OAEP(temporary AES-256 key) ‖ RFC 5649 wrap
 *   of the key (what the OpenSSL CLI cannot do: `enc -id-aes256-wrap-pad` refuses wrap mode);
 * - a private key with any other algorithm: Huawei's two fields (temporary key wrapped with the
 *   algorithm, the PKCS#8 key RFC 5649-wrapped under it);
 * - symmetric or HMAC material otherwise: wrapped directly.
 * The temporary key and the PKCS#8 bytes are zeroized before returning.
 */
export function wrapForImport(input: WrapForImportInput): WrappedForImport {
  const algorithm = parseWrappingAlgorithm(input.algorithm);
  if ((input.material === undefined) === (input.privateKey === undefined)) {
    throw new ByokError('INVALID_PARAMETER', 'Give either key material or a private key.');
  }
  const envelope = WRAPPING_ALGORITHMS[algorithm].envelope === true;
  if (input.material !== undefined && !envelope) return { encryptedKeyMaterial: wrapMaterial({ ...input, material: input.material, algorithm }) };
  const key = input.privateKey !== undefined ? privateKeyToPkcs8(input.privateKey) : input.material!;
  if (!(key instanceof Uint8Array) || key.length === 0) throw new ByokError('INVALID_PARAMETER', 'The key material is empty.');
  const temporaryKey = new Uint8Array(randomBytes(32));
  try {
    const wrappedTemporaryKey = wrapMaterial({ publicKey: input.publicKey, algorithm: envelopeKeyAlgorithm(algorithm), material: temporaryKey });
    const wrappedKey = aesKwpWrap(temporaryKey, key);
    return envelope
      ? { encryptedKeyMaterial: concatBytes(wrappedTemporaryKey, wrappedKey) }
      : { encryptedKeyMaterial: wrappedTemporaryKey, encryptedPrivateKey: wrappedKey };
  } finally {
    zeroize(temporaryKey);
    if (key !== input.material) zeroize(key);
  }
}
