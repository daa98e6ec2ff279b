/**
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) for RSA (RFC 8017 A.1.1) and named-curve EC keys
 * (RFC 5480 §2), SM2 included: read against pkijs's PublicKeyInfo schema, EC written with
 * derTlv, RSA built by OpenSSL. Byte-equal to OpenSSL's `pkey -pubout -outform DER`
 * (test/asn1-key-structures.test.ts).
 */
import { createPublicKey } from 'node:crypto';
import { PublicKeyInfo } from 'pkijs';
import { bigIntToBytes } from '../../bytes.js';
import { ALGORITHM_SCHEMA_NAMES, readAlgorithm, type AlgorithmFields } from './algorithm-identifier.js';
import { decodeDer, derTlv, elements, matchSchema, objectIdentifierDer, octetsOfBitString } from './der.js';
import { ID_EC_PUBLIC_KEY } from './oids.js';

/**
 * The SPKI of the RSA public key (n, e): rsaEncryption with NULL parameters. Encoded by OpenSSL
 * (a JWK import): on the import path, where pkijs's PublicKeyInfo + RSAPublicKey cost ~45 µs a
 * 2048-bit key against ~8 µs (measured), a sixth of a private-key validation.
 */
export function rsaSpki(n: bigint, e: bigint): Uint8Array {
  const b64url = (v: bigint) => Buffer.from(bigIntToBytes(v)).toString('base64url');
  return new Uint8Array(createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
}

/** AlgorithmIdentifier { id-ecPublicKey, namedCurve } (RFC 5480 §2.1.1), as DER. */
export function ecAlgorithmDer(curveOid: string): Uint8Array {
  return derTlv(0x30, objectIdentifierDer(ID_EC_PUBLIC_KEY), objectIdentifierDer(curveOid));
}

/**
 * The SPKI of `point` (SEC1 encoding, as given) on a named curve: id-ecPublicKey, SM2 too.
 * Written with derTlv (a fixed shape; pkijs's classes cost ~200 µs a key, on every EC
 * private-key import and SM2 key generation), byte-equal to OpenSSL's.
 */
export function ecSpki(curveOid: string, point: Uint8Array): Uint8Array {
  return derTlv(0x30, ecAlgorithmDer(curveOid), derTlv(0x03, Uint8Array.of(0), point));
}

/** ECParameters as a namedCurve (RFC 5480 §2.1.1): the DER of the OID, PKCS#11's CKA_EC_PARAMS. */
export function ecParametersDer(curveOid: string): Uint8Array {
  return new Uint8Array(objectIdentifierDer(curveOid));
}

/** An SPKI's algorithm and subjectPublicKey. */
export interface SpkiFields extends AlgorithmFields {
  /** The subjectPublicKey octets: an EC point, or the DER RSAPublicKey. */
  readonly publicKey: Uint8Array;
}

const SPKI_SCHEMA = PublicKeyInfo.schema({
  names: { algorithm: ALGORITHM_SCHEMA_NAMES, subjectPublicKey: 'key' },
});

/** The fields of a DER SPKI, or undefined when it is not exactly one. */
export function readSpki(der: Uint8Array): SpkiFields | undefined {
  const root = decodeDer(der);
  const m = root && matchSchema(root, SPKI_SCHEMA);
  const algorithm = m && elements(root).length === 2 ? readAlgorithm(m) : undefined;
  const publicKey = octetsOfBitString(m?.key);
  return algorithm && publicKey ? { ...algorithm, publicKey } : undefined;
}
