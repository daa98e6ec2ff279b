/**
 * Tencent's `EncryptionPublicKey`: a plaintext the service returns (Decrypt, GenerateDataKey)
 * encrypted under a public key the caller sends (PEM), so it never crosses the wire in the
 * clear. RSA with RSAES_PKCS1_V1_5 / RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256 (RFC 8017 §7), SM2
 * (GM/T 0003.4) as C1C3C2 (`SM2`, the default) or GM/T 0009 ASN.1 (`SM2_C1C3C2_ASN1`).
 */
import { constants, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';
import smCrypto from 'sm-crypto';
import { encodeSm2CiphertextDer, parseSm2Raw, sm2PublicKeyFromSpki } from '../../algorithms/sm2/index.js';
import { ByokError } from '../../errors.js';

/** Tencent's EncryptionAlgorithm names. */
export const ENVELOPE_ALGORITHMS = ['SM2', 'SM2_C1C3C2_ASN1', 'RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const;
export type EnvelopeAlgorithm = (typeof ENVELOPE_ALGORITHMS)[number];

function publicKeyOf(pem: string): KeyObject {
  try {
    return createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new ByokError('INVALID_PARAMETER', 'EncryptionPublicKey must be a PEM public key.');
  }
}

/** `plaintext` encrypted under the caller's public key with `algorithm` (default SM2). */
export function sealForCaller(plaintext: Uint8Array, publicKeyPem: string, algorithm: EnvelopeAlgorithm = 'SM2'): Uint8Array {
  const key = publicKeyOf(publicKeyPem);
  if (algorithm === 'SM2' || algorithm === 'SM2_C1C3C2_ASN1') {
    const point = sm2PublicKeyFromSpki(new Uint8Array(key.export({ format: 'der', type: 'spki' })));
    // sm-crypto: cipher mode 1 is C1C3C2, C1 without its 04 prefix, as hex; its RNG is node's CSPRNG.
    const hex = smCrypto.sm2.doEncrypt(Array.from(plaintext), Buffer.from(point).toString('hex'), 1);
    const raw = new Uint8Array(Buffer.from(`04${hex}`, 'hex'));
    return algorithm === 'SM2' ? raw : encodeSm2CiphertextDer(parseSm2Raw(raw, 'C1C3C2'));
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ByokError('INVALID_PARAMETER', `${algorithm} needs an RSA public key of at least 2048 bits.`);
  }
  const padding = algorithm === 'RSAES_PKCS1_V1_5'
    ? { padding: constants.RSA_PKCS1_PADDING }
    : { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: algorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256' };
  try {
    return new Uint8Array(publicEncrypt({ key, ...padding }, plaintext));
  } catch {
    throw new ByokError('INVALID_PARAMETER', `The plaintext is too long for ${algorithm} under this key.`);
  }
}
