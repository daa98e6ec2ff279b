/**
 * PKCS#8 PrivateKeyInfo (RFC 5208 §5, RFC 5958 §2) and the two keys it carries here:
 * RSAPrivateKey (RFC 8017 A.1.2) and ECPrivateKey (RFC 5915 §3), read against pkijs's schemas.
 *
 * pkijs's classes are not used to read: PrivateKeyInfo parses the inner key eagerly and its
 * ECPublicKey refuses curves it does not list (secp256k1, SM2), and RSAPrivateKey strips
 * INTEGER signs (a negative modulus would read as a positive one). The schemas are the
 * structures; the values come from the asn1js nodes, checked here. Every reader returns
 * undefined for anything that is not its structure and never throws.
 */
import * as asn1js from 'asn1js';
import { ECPrivateKey, PrivateKeyInfo, RSAPrivateKey } from 'pkijs';
import { ALGORITHM_SCHEMA_NAMES, readAlgorithm, type AlgorithmFields } from './algorithm-identifier.js';
import { zeroize } from '../../bytes.js';
import { decodeDer, derTlv, elements, matchSchema, octetsOf, octetsOfBitString, oidOf, smallInteger, unsignedInteger } from './der.js';
import { ecAlgorithmDer } from './spki.js';

/** A PrivateKeyInfo's version, privateKeyAlgorithm and privateKey. */
export interface PrivateKeyInfoFields extends AlgorithmFields {
  /** 0 (v1, RFC 5208) or 1 (v2, RFC 5958 OneAsymmetricKey). */
  readonly version: number;
  /** The privateKey OCTET STRING's contents (the inner key's DER; secret). */
  readonly privateKey: Uint8Array;
}

const PRIVATE_KEY_INFO_SCHEMA = PrivateKeyInfo.schema({
  names: { version: 'version', privateKeyAlgorithm: ALGORITHM_SCHEMA_NAMES, privateKey: 'key' },
});

/** The fields of a DER PrivateKeyInfo (attributes and a v2 public key may follow; they are not read). */
export function readPrivateKeyInfo(der: Uint8Array): PrivateKeyInfoFields | undefined {
  const root = decodeDer(der);
  const m = root && matchSchema(root, PRIVATE_KEY_INFO_SCHEMA);
  const algorithm = m && readAlgorithm(m);
  const version = smallInteger(m?.version);
  const privateKey = octetsOf(m?.key);
  if (!algorithm || (version !== 0 && version !== 1) || !privateKey) return undefined;
  return { version, ...algorithm, privateKey };
}

/** RSAPrivateKey of two primes: every INTEGER non-negative (secret, as BigInts). */
export interface RsaPrivateKeyFields {
  readonly n: bigint; readonly e: bigint; readonly d: bigint; readonly p: bigint; readonly q: bigint;
  readonly dp: bigint; readonly dq: bigint; readonly qi: bigint;
}

const RSA_FIELDS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;
const RSA_PRIVATE_KEY_SCHEMA = RSAPrivateKey.schema({
  names: { version: 'version', modulus: 'n', publicExponent: 'e', privateExponent: 'd', prime1: 'p', prime2: 'q', exponent1: 'dp', exponent2: 'dq', coefficient: 'qi' },
});

function matchRsa(der: Uint8Array): { root: asn1js.AsnType; m: Record<string, asn1js.AsnType> } | undefined {
  const root = decodeDer(der);
  const m = root && matchSchema(root, RSA_PRIVATE_KEY_SCHEMA);
  return m ? { root: root!, m } : undefined;
}

/** A two-prime RSAPrivateKey (version 0, exactly nine INTEGERs, none negative), or undefined. */
export function readRsaPrivateKey(der: Uint8Array): RsaPrivateKeyFields | undefined {
  const match = matchRsa(der);
  if (!match || elements(match.root).length !== 9 || smallInteger(match.m.version) !== 0) return undefined;
  const out: Partial<Record<(typeof RSA_FIELDS)[number], bigint>> = {};
  for (const name of RSA_FIELDS) {
    const value = unsignedInteger(match.m[name]);
    if (value === undefined) return undefined;
    out[name] = value;
  }
  return out as RsaPrivateKeyFields;
}

export interface EcPrivateKeyFields {
  /** The privateKey OCTET STRING: the scalar d, big-endian (secret; its length is not checked here). */
  readonly privateKey: Uint8Array;
  /** [0] parameters, when present: the namedCurve. */
  readonly curveOid?: string;
  /** [1] publicKey, when present: the point's octets as written (compressed or not). */
  readonly publicKey?: Uint8Array;
}

const EC_PRIVATE_KEY_SCHEMA = ECPrivateKey.schema({
  names: { version: 'version', privateKey: 'key', namedCurve: 'curve', publicKey: 'point' },
});

function matchEc(der: Uint8Array): { root: asn1js.AsnType; m: Record<string, asn1js.AsnType> } | undefined {
  const root = decodeDer(der);
  const m = root && matchSchema(root, EC_PRIVATE_KEY_SCHEMA);
  return m && smallInteger(m.version) === 1 ? { root: root!, m } : undefined;
}

/**
 * An ECPrivateKey (version 1) whose only optional fields are [0] a namedCurve and [1] a BIT
 * STRING of whole octets, each holding exactly one value; else undefined.
 */
export function readEcPrivateKey(der: Uint8Array): EcPrivateKeyFields | undefined {
  const match = matchEc(der);
  if (!match) return undefined;
  const { root, m } = match;
  const items = elements(root);
  const privateKey = octetsOf(m.key);
  const curveOid = m.curve !== undefined ? oidOf(m.curve) : undefined;
  const publicKey = m.point !== undefined ? octetsOfBitString(m.point) : undefined;
  // Every element after the scalar is one the schema matched: [0] then [1], one value each.
  const tagged = items.slice(2);
  const expected = (m.curve !== undefined ? 1 : 0) + (m.point !== undefined ? 1 : 0);
  if (!privateKey || tagged.length !== expected || tagged.some((t) => elements(t).length !== 1)) return undefined;
  if ((m.curve !== undefined && curveOid === undefined) || (m.point !== undefined && publicKey === undefined)) return undefined;
  return { privateKey, ...(curveOid !== undefined ? { curveOid } : {}), ...(publicKey !== undefined ? { publicKey } : {}) };
}

/**
 * Which unwrapped key format `der` is when it is not PKCS#8: PKCS#1 ("RSA PRIVATE KEY") or
 * SEC1 ("EC PRIVATE KEY"), so a refusal can name the conversion. Undefined for anything else.
 */
export function bareKeyFormat(der: Uint8Array): 'pkcs1' | 'sec1' | undefined {
  const rsa = matchRsa(der);
  if (rsa && smallInteger(rsa.m.version) === 0) return 'pkcs1';
  return matchEc(der) ? 'sec1' : undefined;
}

/**
 * PKCS#8 v1 of an EC key on a named curve, as OpenSSL writes it: PrivateKeyInfo { 0,
 * { id-ecPublicKey, curve }, ECPrivateKey { 1, d, [1] point } } (RFC 5208 §5, RFC 5915 §3; the
 * curve in the AlgorithmIdentifier only). `d` as given (fixed length); the intermediate
 * encodings that hold it are zeroed.
 */
export function ecPrivateKeyInfo(curveOid: string, d: Uint8Array, point: Uint8Array): Uint8Array {
  const scalar = derTlv(0x04, d);
  const ecPrivateKey = derTlv(0x30, Uint8Array.of(0x02, 0x01, 0x01), scalar, derTlv(0xa1, derTlv(0x03, Uint8Array.of(0), point)));
  const wrapped = derTlv(0x04, ecPrivateKey);
  try {
    return derTlv(0x30, Uint8Array.of(0x02, 0x01, 0x00), ecAlgorithmDer(curveOid), wrapped);
  } finally {
    zeroize(scalar, ecPrivateKey, wrapped);
  }
}
