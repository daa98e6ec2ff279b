/**
 * Signatures with imported private keys and their verification with the public key.
 * RSA (PKCS#1 v1.5, PSS with a salt as long as the hash) and ECDSA through node:crypto
 * (OpenSSL), DER-encoded ECDSA signatures as OpenSSL and the cloud KMSs return them; SM2 with
 * sm-crypto (GM/T 0003.2, SM3 with Z computed over the default ID "1234567812345678", the ID
 * OpenSSL 3 uses: `openssl dgst -sm3 -verify` checks our signatures).
 */
import { constants, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import smCrypto from 'sm-crypto';
import { asBuffer } from '../../bytes.js';
import { ByokError } from '../../errors.js';
import { parseSm2PrivateKey, destroySm2PrivateKey, sm2PublicKeyFromSpki } from '../sm2/index.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../specs.js';

function nodeOptions(alg: SigningAlgorithm, key: KeyObject) {
  const info = SIGNING_ALGORITHMS[alg];
  return info.rsaPadding === 'pss'
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : { key, dsaEncoding: 'der' as const };
}

/** Sign `message` (the raw message, hashed here) with a PKCS#8 private key. */
export function signWithPkcs8(pkcs8: Uint8Array, alg: SigningAlgorithm, message: Uint8Array): Uint8Array {
  const info = SIGNING_ALGORITHMS[alg];
  if (info.keyType === 'sm2') {
    const key = parseSm2PrivateKey(pkcs8);
    try {
      const dHex = Buffer.from(key.d).toString('hex');
      const pubHex = key.ecdh!.getPublicKey('hex', 'uncompressed');
      const sigHex = smCrypto.sm2.doSignature(Array.from(message), dHex, { der: true, hash: true, publicKey: pubHex });
      return new Uint8Array(Buffer.from(sigHex, 'hex'));
    } finally {
      destroySm2PrivateKey(key);
    }
  }
  const key = createPrivateKey({ key: asBuffer(pkcs8), format: 'der', type: 'pkcs8' });
  return new Uint8Array(sign(info.hash, message, nodeOptions(alg, key)));
}

/**
 * An SM2 DER signature checked against a SubjectPublicKeyInfo: over the message hashed with its Z
 * value (GM/T 0003.2 §6.1, `hashed`), or over a caller's digest as it is. Throws on a malformed key.
 */
export function verifySm2WithSpki(spki: Uint8Array, data: Uint8Array, signature: Uint8Array, hashed: boolean): boolean {
  const pubHex = Buffer.from(sm2PublicKeyFromSpki(spki)).toString('hex');
  return smCrypto.sm2.doVerifySignature(Array.from(data), Buffer.from(signature).toString('hex'), pubHex, { der: true, hash: hashed });
}

/** Verify with a DER SubjectPublicKeyInfo. False for any bad signature, never an exception. */
export function verifyWithSpki(spki: Uint8Array, alg: SigningAlgorithm, message: Uint8Array, signature: Uint8Array): boolean {
  const info = SIGNING_ALGORITHMS[alg];
  try {
    if (info.keyType === 'sm2') return verifySm2WithSpki(spki, message, signature, true);
    const key = createPublicKey({ key: asBuffer(spki), format: 'der', type: 'spki' });
    return verify(info.hash, message, nodeOptions(alg, key), signature);
  } catch (e) {
    if (e instanceof ByokError) throw e;
    return false;
  }
}
