/**
 * SM2 wrapping keys: generation, PKCS#8 parsing into the form the decrypt wants, and the public
 * point from an SPKI.
 *
 * Node's generateKeyPair('ec', { namedCurve: 'SM2' }) exports SPKI as id-ecPublicKey
 * (1.2.840.10045.2.1) with the named curve 1.2.156.10197.1.301, which `openssl pkey -pubin
 * -inform DER` reads ("ASN1 OID: SM2"); PKCS#8 likewise, with an RFC 5915 ECPrivateKey inside.
 * Both are checked here as postconditions rather than assumed.
 */
import { createECDH, generateKeyPair, type ECDH } from 'node:crypto';
import { promisify } from 'node:util';
import { ByokError } from '../../errors.js';
import { bytesToBigInt, equalBytes, zeroize } from '../../bytes.js';
import { ecPrivateKeyInfo, ecSpki, ID_EC_PUBLIC_KEY, readEcPrivateKey, readPrivateKeyInfo, readSpki } from '../asn1/index.js';
import { fieldBytes, isOnCurve, isSm2p256v1, SM2_CURVE_OID, SM2P256V1, type Sm2CurveParams } from './curve.js';
import { createNativeSm2Key, nativeSm2, sm2Engine, type NativeSm2Key, type Sm2EngineName } from './native-sm2.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * A parsed SM2 private key, built once per wrapping key and cached by the engine.
 * Release it with destroySm2PrivateKey (zeroizing `d` alone leaves OpenSSL's copy).
 */
export interface Sm2PrivateKey {
  readonly curve: Sm2CurveParams;
  /** The scalar d, fixed-length big-endian (secret). */
  readonly d: Uint8Array;
  /**
   * sm2p256v1 only: an OpenSSL ECDH context already holding d, so each decrypt is one
   * computeSecret call with no per-call key import (see sm2-decrypt.ts for why this engine).
   */
  readonly ecdh?: ECDH;
  /**
   * The SM2 addon's copy of the key (any curve), when this key decrypts on it (native-sm2.ts):
   * created once here, so a decrypt is the decrypt only.
   */
  readonly native?: NativeSm2Key;
}

/** An SM2 key pair as DER. */
export interface Sm2KeyPairDer {
  readonly publicKeySpki: Uint8Array;
  readonly privateKeyPkcs8: Uint8Array;
}

/**
 * A new SM2 pair made in the addon: OpenSSL's EVP_PKEY_keygen, the postcondition Q = [d]G
 * checked in C, and the SPKI and PKCS#8 written here (derTlv; byte-equal to OpenSSL's). Node's
 * generateKeyPair costs about three keygens more: OpenSSL 3.0's DER encoders, then
 * checkSm2KeyPair's parses and node ECDH's own [d]G. Undefined when this thread runs SM2 in
 * TypeScript (sm2Engine): then generateSm2KeyPair's path.
 */
export function generateSm2KeyPairNative(): Sm2KeyPairDer | undefined {
  const addon = nativeSm2();
  if (!addon) return undefined;
  const { d, point } = addon.generateKey();
  try {
    return { publicKeySpki: ecSpki(SM2_CURVE_OID, point), privateKeyPkcs8: ecPrivateKeyInfo(SM2_CURVE_OID, d, point) };
  } finally {
    zeroize(d);
  }
}

/** A new SM2 pair: on the addon when it is built, else node's generateKeyPair and checkSm2KeyPair. */
export async function generateSm2KeyPair(): Promise<Sm2KeyPairDer> {
  const native = generateSm2KeyPairNative();
  if (native) return native;
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', {
    namedCurve: 'SM2',
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return checkSm2KeyPair({ publicKeySpki: new Uint8Array(publicKey), privateKeyPkcs8: new Uint8Array(privateKey) });
}

/**
 * Postcondition of SM2 key generation, wherever it ran (here, or on a worker thread): the SPKI
 * is id-ecPublicKey on the SM2 curve, and the pair matches. Returns the pair.
 */
export function checkSm2KeyPair(pair: { publicKeySpki: Uint8Array; privateKeyPkcs8: Uint8Array }): { publicKeySpki: Uint8Array; privateKeyPkcs8: Uint8Array } {
  const { publicKeySpki, privateKeyPkcs8 } = pair;
  const point = sm2PublicKeyFromSpki(publicKeySpki);
  const parsed = parseSm2PrivateKey(privateKeyPkcs8, 'typescript'); // only its public key is needed
  try {
    if (!equalBytes(parsed.ecdh!.getPublicKey(), point)) throw new ByokError('INTERNAL_ERROR', 'SM2 key generation gave a mismatched pair.');
  } finally {
    destroySm2PrivateKey(parsed);
  }
  return { publicKeySpki, privateKeyPkcs8 };
}

/**
 * The key for scalar d on `curve`. d ∈ [1, n−1]: GM/T 0003.1 generates d ∈ [1, n−2] (n−1 is
 * excluded for signatures only), and decryption is well defined for n−1 too.
 * Curves with cofactor h ≠ 1 are refused: GM/T 0003.4 §7.1 B2 ([h]C1 ≠ O) then needs its own
 * check, and neither sm2p256v1 nor the GB/T 32918 example curves have one.
 * `engine` defaults to this thread's choice (sm2Engine); asking for the addon when it is not
 * built is DEPENDENCY_MISSING (the tests and the KAT run both engines on purpose).
 */
export function sm2PrivateKeyFromScalar(d: Uint8Array, curve: Sm2CurveParams = SM2P256V1, engine: Sm2EngineName = sm2Engine().engine): Sm2PrivateKey {
  if (curve.h !== 1n) throw new ByokError('ALGORITHM_UNSUPPORTED', 'SM2 curves with a cofactor other than 1 are not supported.');
  const len = fieldBytes(curve);
  // The range check holds d in a BigInt once per key load (not per decrypt); BigInts cannot be
  // wiped, which is accepted for this one-off, public-outcome comparison.
  let scalar = 0n;
  for (const byte of d) scalar = (scalar << 8n) | BigInt(byte);
  if (d.length === 0 || d.length > len || scalar < 1n || scalar >= curve.n) {
    throw new ByokError('INVALID_PARAMETER', 'SM2 private key out of range.');
  }
  const fixed = new Uint8Array(len);
  fixed.set(d, len - d.length);
  const native = engine === 'openssl-addon' ? nativeKey(fixed, curve) : undefined;
  if (!isSm2p256v1(curve)) return { curve, d: fixed, native };
  // Node's ECDH also holds d on the addon's path: it gives the public key (checkSm2KeyPair).
  const ecdh = createECDH('SM2');
  const copy = Buffer.from(fixed);
  try {
    ecdh.setPrivateKey(copy);
  } finally {
    zeroize(copy);
  }
  return { curve: SM2P256V1, d: fixed, ecdh, native };
}

function nativeKey(d: Uint8Array, curve: Sm2CurveParams): NativeSm2Key {
  const addon = nativeSm2();
  if (!addon) throw new ByokError('DEPENDENCY_MISSING', sm2Engine().detail);
  return createNativeSm2Key(addon, d, curve);
}

/**
 * Drop a key: zeroize d, clear the addon's copy (BN_clear_free), and replace node ECDH's scalar
 * with 1 (EC_KEY_free, run when node swaps the key, clears the old BIGNUM with BN_clear_free).
 */
export function destroySm2PrivateKey(key: Sm2PrivateKey): void {
  zeroize(key.d);
  if (key.native) nativeSm2()!.destroyKey(key.native);
  if (key.ecdh) {
    const one = Buffer.alloc(fieldBytes(key.curve));
    one[one.length - 1] = 1;
    key.ecdh.setPrivateKey(one);
  }
}

/**
 * PKCS#8 PrivateKeyInfo (RFC 5208 / RFC 5958) holding an RFC 5915 ECPrivateKey on the SM2
 * curve. If the ECPrivateKey carries its public key, it must be [d]G (a pair that does not
 * match is refused, not used). The wrapping key comes from our own authenticated token, so a
 * failure here is a server fault.
 */
export function parseSm2PrivateKey(pkcs8: Uint8Array, engine: Sm2EngineName = sm2Engine().engine): Sm2PrivateKey {
  let key: Sm2PrivateKey | undefined;
  const info = readPrivateKeyInfo(pkcs8);
  const ec = info && isSm2Algorithm(info.algorithm, info.parametersOid) ? readEcPrivateKey(info.privateKey) : undefined;
  try {
    if (!ec || (ec.curveOid !== undefined && ec.curveOid !== SM2_CURVE_OID)) throw new Error('not an SM2 PKCS#8 key');
    key = sm2PrivateKeyFromScalar(ec.privateKey, SM2P256V1, engine);
    if (ec.publicKey !== undefined && !equalBytes(ec.publicKey, key.ecdh!.getPublicKey())) throw new Error('key pair does not match');
    return key;
  } catch (cause) {
    if (key) destroySm2PrivateKey(key);
    throw new ByokError('INTERNAL_ERROR', 'SM2 wrapping key could not be parsed.', { cause });
  } finally {
    zeroize(info?.privateKey, ec?.privateKey);
  }
}

/** AlgorithmIdentifier { id-ecPublicKey, namedCurve sm2p256v1 } (RFC 5480 §2.1.1). */
function isSm2Algorithm(algorithm: string, curveOid: string | undefined): boolean {
  return algorithm === ID_EC_PUBLIC_KEY && curveOid === SM2_CURVE_OID;
}

/** The public point 04 ‖ x ‖ y of an SM2 SubjectPublicKeyInfo (RFC 5480), checked on the curve. */
export function sm2PublicKeyFromSpki(spki: Uint8Array): Uint8Array {
  const fields = readSpki(spki);
  const point = fields && isSm2Algorithm(fields.algorithm, fields.parametersOid) ? fields.publicKey : undefined;
  const len = fieldBytes(SM2P256V1);
  if (!point || point.length !== 1 + 2 * len || point[0] !== 0x04
    || !isOnCurve(SM2P256V1, bytesToBigInt(point.subarray(1, 1 + len)), bytesToBigInt(point.subarray(1 + len)))) {
    throw new ByokError('INVALID_PARAMETER', 'Not an SM2 public key (SubjectPublicKeyInfo on 1.2.156.10197.1.301).');
  }
  return point;
}
