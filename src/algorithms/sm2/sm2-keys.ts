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
import * as asn1js from 'asn1js';
import { ByokError } from '../../errors.js';
import { equalBytes, zeroize } from '../../bytes.js';
import { fieldBytes, isOnCurve, isSm2p256v1, SM2_CURVE_OID, SM2P256V1, type Sm2CurveParams } from './curve.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';

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
}

export async function generateSm2KeyPair(): Promise<{ publicKeySpki: Uint8Array; privateKeyPkcs8: Uint8Array }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', {
    namedCurve: 'SM2',
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  const publicKeySpki = new Uint8Array(publicKey);
  const privateKeyPkcs8 = new Uint8Array(privateKey);
  /* Postcondition: the SPKI is id-ecPublicKey on the SM2 curve, and the pair matches. */
  const point = sm2PublicKeyFromSpki(publicKeySpki);
  const parsed = parseSm2PrivateKey(privateKeyPkcs8);
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
 */
export function sm2PrivateKeyFromScalar(d: Uint8Array, curve: Sm2CurveParams = SM2P256V1): Sm2PrivateKey {
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
  if (!isSm2p256v1(curve)) return { curve, d: fixed };
  const ecdh = createECDH('SM2');
  const copy = Buffer.from(fixed);
  try {
    ecdh.setPrivateKey(copy);
  } finally {
    zeroize(copy);
  }
  return { curve: SM2P256V1, d: fixed, ecdh };
}

/**
 * Drop a key: zeroize d, and replace OpenSSL's scalar with 1 (EC_KEY_free, run when node swaps
 * the key, clears the old BIGNUM with BN_clear_free).
 */
export function destroySm2PrivateKey(key: Sm2PrivateKey): void {
  zeroize(key.d);
  if (key.ecdh) {
    const one = Buffer.alloc(fieldBytes(key.curve));
    one[one.length - 1] = 1;
    key.ecdh.setPrivateKey(one);
  }
}

function derDecode(bytes: Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset === -1 || parsed.offset !== bytes.length) throw new Error('bad DER');
  return parsed.result;
}

function oidOf(v: unknown): string | undefined {
  return v instanceof asn1js.ObjectIdentifier ? v.valueBlock.toString() : undefined;
}

/** AlgorithmIdentifier { id-ecPublicKey, namedCurve sm2p256v1 } (RFC 5480 §2.1.1). */
function isSm2Algorithm(alg: unknown): boolean {
  if (!(alg instanceof asn1js.Sequence) || alg.valueBlock.value.length !== 2) return false;
  const [algOid, curveOid] = alg.valueBlock.value;
  return oidOf(algOid) === ID_EC_PUBLIC_KEY && oidOf(curveOid) === SM2_CURVE_OID;
}

/**
 * PKCS#8 PrivateKeyInfo (RFC 5208 / RFC 5958) holding an RFC 5915 ECPrivateKey on the SM2
 * curve. If the ECPrivateKey carries its public key, it must be [d]G (a pair that does not
 * match is refused, not used). The wrapping key comes from our own authenticated token, so a
 * failure here is a server fault.
 */
export function parseSm2PrivateKey(pkcs8: Uint8Array): Sm2PrivateKey {
  let key: Sm2PrivateKey | undefined;
  let d: Uint8Array | undefined;
  try {
    const info = derDecode(pkcs8);
    if (!(info instanceof asn1js.Sequence)) throw new Error('not a SEQUENCE');
    const [version, algorithm, privateKey] = info.valueBlock.value;
    if (!(version instanceof asn1js.Integer) || version.valueBlock.valueDec > 1) throw new Error('version');
    if (!isSm2Algorithm(algorithm) || !(privateKey instanceof asn1js.OctetString)) throw new Error('not SM2');
    const ec = derDecode(new Uint8Array(privateKey.valueBlock.valueHexView));
    if (!(ec instanceof asn1js.Sequence)) throw new Error('ECPrivateKey');
    const [ecVersion, scalar, ...optional] = ec.valueBlock.value;
    if (!(ecVersion instanceof asn1js.Integer) || ecVersion.valueBlock.valueDec !== 1) throw new Error('ECPrivateKey version');
    if (!(scalar instanceof asn1js.OctetString)) throw new Error('ECPrivateKey scalar');
    d = new Uint8Array(scalar.valueBlock.valueHexView);
    key = sm2PrivateKeyFromScalar(d);
    for (const field of optional) {
      const tag = field.idBlock.tagClass === 3 ? field.idBlock.tagNumber : -1;
      const inner = field instanceof asn1js.Constructed ? field.valueBlock.value[0] : undefined;
      if (tag === 0) {
        if (oidOf(inner) !== SM2_CURVE_OID) throw new Error('ECPrivateKey parameters');
      } else if (tag === 1) {
        if (!(inner instanceof asn1js.BitString) || inner.valueBlock.unusedBits !== 0) throw new Error('ECPrivateKey publicKey');
        const embedded = new Uint8Array(inner.valueBlock.valueHexView);
        if (!equalBytes(embedded, key.ecdh!.getPublicKey())) throw new Error('key pair does not match');
      } else {
        throw new Error('ECPrivateKey field');
      }
    }
    return key;
  } catch {
    if (key) destroySm2PrivateKey(key);
    throw new ByokError('INTERNAL_ERROR', 'SM2 wrapping key could not be parsed.');
  } finally {
    zeroize(d);
  }
}

/** The public point 04 ‖ x ‖ y of an SM2 SubjectPublicKeyInfo (RFC 5480), checked on the curve. */
export function sm2PublicKeyFromSpki(spki: Uint8Array): Uint8Array {
  try {
    const seq = derDecode(spki);
    if (!(seq instanceof asn1js.Sequence) || seq.valueBlock.value.length !== 2) throw new Error('SPKI');
    const [algorithm, bits] = seq.valueBlock.value;
    if (!isSm2Algorithm(algorithm) || !(bits instanceof asn1js.BitString) || bits.valueBlock.unusedBits !== 0) throw new Error('not SM2');
    const point = new Uint8Array(bits.valueBlock.valueHexView);
    const len = fieldBytes(SM2P256V1);
    if (point.length !== 1 + 2 * len || point[0] !== 0x04) throw new Error('not uncompressed');
    const x = BigInt('0x' + Buffer.from(point.subarray(1, 1 + len)).toString('hex'));
    const y = BigInt('0x' + Buffer.from(point.subarray(1 + len)).toString('hex'));
    if (!isOnCurve(SM2P256V1, x, y)) throw new Error('not on curve');
    return point;
  } catch {
    throw new ByokError('INVALID_PARAMETER', 'Not an SM2 public key (SubjectPublicKeyInfo on 1.2.156.10197.1.301).');
  }
}
