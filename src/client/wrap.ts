/**
 * Client-side wrap: what the seeds tell a customer to do with `openssl pkeyutl`, as a library
 * function. The public key may be the API's base64, DER or PEM.
 */
import { constants, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';
import smCrypto from 'sm-crypto';
import { parseWrappingAlgorithm, WRAPPING_ALGORITHMS, type WrappingAlgorithm } from '../algorithms/specs.js';
import { ByokError } from '../errors.js';

export interface WrapInput {
  /** base64 DER SPKI (as the API returns it), DER bytes, or PEM text. */
  readonly publicKey: string | Uint8Array;
  readonly algorithm: WrappingAlgorithm | string;
  readonly material: Uint8Array;
}

function publicKeyDer(publicKey: string | Uint8Array): Buffer {
  const text = typeof publicKey === 'string' ? publicKey : Buffer.from(publicKey).toString('latin1');
  if (text.includes('-----BEGIN')) {
    return createPublicKey(text).export({ type: 'spki', format: 'der' });
  }
  if (typeof publicKey === 'string') {
    const der = Buffer.from(publicKey.replace(/\s+/g, ''), 'base64');
    if (der.length === 0) throw new ByokError('INVALID_PARAMETER', 'The public key is not base64, DER or PEM.');
    return der;
  }
  return Buffer.from(publicKey);
}

/** DER of the SM2 curve OID 1.2.156.10197.1.301. */
const SM2_CURVE_OID_DER = Buffer.from('06082a811ccf5501822d', 'hex');

/**
 * The uncompressed SM2 point from an SM2 SPKI (fixed layout: 27-byte header, 04 ‖ x ‖ y).
 * Checked by the curve OID: Node 20 reports a parsed SM2 public key's type as undefined.
 */
function sm2PointHex(der: Buffer): string {
  if (der.length !== 91 || der.indexOf(SM2_CURVE_OID_DER) !== 13 || der[26] !== 0x04) {
    throw new ByokError('INVALID_PARAMETER', 'SM2_ENCRYPT needs an SM2 public key.');
  }
  return der.subarray(26).toString('hex');
}

/**
 * Encrypt key material for an import public key, as the customer's side of the import:
 * RSAES-OAEP (SHA-256 or SHA-1, MGF1 with the same hash), RSAES-PKCS1-v1_5, or SM2 encryption
 * (GM/T 0003.4, C1 ‖ C3 ‖ C2 with C1 as an uncompressed point). Returns the raw ciphertext;
 * the wire APIs carry it as base64.
 */
export function wrapMaterial(input: WrapInput): Uint8Array {
  const algorithm = parseWrappingAlgorithm(input.algorithm);
  const der = publicKeyDer(input.publicKey);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw new ByokError('INVALID_PARAMETER', 'The public key is not a DER SubjectPublicKeyInfo.');
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
