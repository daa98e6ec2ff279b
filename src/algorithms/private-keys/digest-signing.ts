/**
 * Signatures over a digest the caller computed (AWS `MessageType: DIGEST`), where node:crypto
 * only signs messages it hashes itself: RSASSA-PKCS1-v1_5 as the DigestInfo under private-key
 * block type 1 (RFC 8017 §9.2), RSASSA-PSS by EMSA-PSS (RFC 8017 §9.1, salt as long as the
 * hash) under the raw RSA operation, ECDSA with @noble/curves given the hash (FIPS 186-5 §6.4.1,
 * no prehash), SM2 with sm-crypto given e = SM3(Z_A ‖ M) (GM/T 0003.2 §6.1 step A2).
 * Each verifies as the RAW signature of the message the digest was taken over.
 */
import { constants, createHash, createPrivateKey, createPublicKey, privateEncrypt, publicDecrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import smCrypto from 'sm-crypto';
import { asBuffer, zeroize } from '../../bytes.js';
import { mgf1 } from '../rsa/mgf1.js';
import { destroySm2PrivateKey, parseSm2PrivateKey } from '../sm2/index.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../specs.js';
import { verifySm2WithSpki } from './signing.js';

/** DER DigestInfo prefixes (RFC 8017 §9.2, note 1). */
const DIGEST_INFO_PREFIX: Readonly<Record<string, string>> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/** The DigestInfo RSASSA-PKCS1-v1_5 signs: the hash's AlgorithmIdentifier and the digest. */
export function digestInfo(hash: string, digest: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash]!, 'hex'), digest]);
}

const NOBLE_CURVES = { prime256v1: p256, secp384r1: p384, secp521r1: p521, secp256k1 } as const;

function nobleCurve(key: KeyObject) {
  const curve = NOBLE_CURVES[key.asymmetricKeyDetails?.namedCurve as keyof typeof NOBLE_CURVES];
  if (curve === undefined) throw new TypeError('unsupported curve');
  return curve;
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of a digest, as k bytes, emBits = modBits - 1, sLen = hLen. */
function pssEncode(hash: string, digest: Uint8Array, modBits: number): Buffer {
  const hLen = digest.length;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[db.length - hLen - 1] = 0x01;
  salt.copy(db, db.length - hLen);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const k = Math.ceil(modBits / 8);
  return Buffer.concat([Buffer.alloc(k - emLen), db, h, Buffer.of(0xbc)]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of the k-byte block a signature opens to. */
function pssVerify(hash: string, digest: Uint8Array, block: Buffer, modBits: number): boolean {
  const hLen = digest.length;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (block.length < emLen || block.subarray(0, block.length - emLen).some((b) => b !== 0)) return false;
  const em = block.subarray(block.length - emLen);
  if (emLen < 2 * hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const db = Buffer.from(em.subarray(0, emLen - hLen - 1));
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 0xff >> (8 * emLen - emBits);
  if ((db[0]! & ~topBits) !== 0) return false;
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= topBits;
  const psEnd = db.length - hLen - 1;
  if (db.subarray(0, psEnd).some((b) => b !== 0) || db[psEnd] !== 0x01) return false;
  const expected = createHash(hash).update(Buffer.alloc(8)).update(digest).update(db.subarray(psEnd + 1)).digest();
  return timingSafeEqual(expected, h);
}

/** Sign a digest (its length already checked against the algorithm's hash) with a PKCS#8 key. */
export function signDigestWithPkcs8(pkcs8: Uint8Array, alg: SigningAlgorithm, digest: Uint8Array): Uint8Array {
  const info = SIGNING_ALGORITHMS[alg];
  if (info.keyType === 'sm2') {
    const key = parseSm2PrivateKey(pkcs8);
    try {
      const sigHex = smCrypto.sm2.doSignature(Array.from(digest), Buffer.from(key.d).toString('hex'), { der: true, hash: false });
      return new Uint8Array(Buffer.from(sigHex, 'hex'));
    } finally {
      destroySm2PrivateKey(key);
    }
  }
  const key = createPrivateKey({ key: asBuffer(pkcs8), format: 'der', type: 'pkcs8' });
  if (info.keyType === 'ec') {
    const scalar = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
    try {
      return nobleCurve(key).sign(digest, scalar, { prehash: false, format: 'der', lowS: false });
    } finally {
      zeroize(scalar);
    }
  }
  const modBits = key.asymmetricKeyDetails!.modulusLength!;
  const block = info.rsaPadding === 'pss' ? pssEncode(info.hash, digest, modBits) : digestInfo(info.hash, digest);
  const padding = info.rsaPadding === 'pss' ? constants.RSA_NO_PADDING : constants.RSA_PKCS1_PADDING;
  return new Uint8Array(privateEncrypt({ key, padding }, block));
}

/** Verify a signature over a digest with a DER SubjectPublicKeyInfo; false for any bad signature. */
export function verifyDigestWithSpki(spki: Uint8Array, alg: SigningAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  const info = SIGNING_ALGORITHMS[alg];
  try {
    if (info.keyType === 'sm2') return verifySm2WithSpki(spki, digest, signature, false);
    const key = createPublicKey({ key: asBuffer(spki), format: 'der', type: 'spki' });
    if (info.keyType === 'ec') {
      const jwk = key.export({ format: 'jwk' });
      const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
      return nobleCurve(key).verify(signature, digest, point, { prehash: false, format: 'der', lowS: false });
    }
    const modBits = key.asymmetricKeyDetails!.modulusLength!;
    if (signature.length !== Math.ceil(modBits / 8)) return false;
    if (info.rsaPadding === 'pss') return pssVerify(info.hash, digest, publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature), modBits);
    const opened = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
    const expected = digestInfo(info.hash, digest);
    return opened.length === expected.length && timingSafeEqual(opened, expected);
  } catch {
    return false;
  }
}
