/**
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) for RSA (RFC 8017 A.1.1) and named-curve EC keys
 * (RFC 5480 §2), SM2 included: built with pkijs's PublicKeyInfo, read against its schema.
 * Built byte-equal to OpenSSL's `pkey -pubout -outform DER` (test/asn1-key-structures.test.ts).
 */
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, PublicKeyInfo, RSAPublicKey } from 'pkijs';
import { decodeDer, elements, matchSchema, octetsOfBitString, oidOf, unsignedIntegerNode } from './der.js';
import { ID_EC_PUBLIC_KEY, RSA_ENCRYPTION } from './oids.js';

function encode(algorithm: AlgorithmIdentifier, subjectPublicKey: Uint8Array): Uint8Array {
  const info = new PublicKeyInfo({ algorithm, subjectPublicKey: new asn1js.BitString({ valueHex: subjectPublicKey }) });
  return new Uint8Array(info.toSchema().toBER(false));
}

/** The SPKI of the RSA public key (n, e): rsaEncryption with NULL parameters, as OpenSSL writes it. */
export function rsaSpki(n: bigint, e: bigint): Uint8Array {
  const key = new RSAPublicKey({ modulus: unsignedIntegerNode(n), publicExponent: unsignedIntegerNode(e) });
  return encode(new AlgorithmIdentifier({ algorithmId: RSA_ENCRYPTION, algorithmParams: new asn1js.Null() }), new Uint8Array(key.toSchema().toBER(false)));
}

/** The SPKI of `point` (SEC1 encoding, as given) on a named curve: id-ecPublicKey, SM2 too. */
export function ecSpki(curveOid: string, point: Uint8Array): Uint8Array {
  return encode(new AlgorithmIdentifier({ algorithmId: ID_EC_PUBLIC_KEY, algorithmParams: new asn1js.ObjectIdentifier({ value: curveOid }) }), point);
}

/** ECParameters as a namedCurve (RFC 5480 §2.1.1): the DER of the OID, PKCS#11's CKA_EC_PARAMS. */
export function ecParametersDer(curveOid: string): Uint8Array {
  return new Uint8Array(new asn1js.ObjectIdentifier({ value: curveOid }).toBER(false));
}

export interface SpkiFields {
  readonly algorithm: string;
  /** The parameters when they are an OID (an EC key's namedCurve). */
  readonly curveOid?: string;
  /** The subjectPublicKey octets: an EC point, or the DER RSAPublicKey. */
  readonly publicKey: Uint8Array;
}

const SPKI_SCHEMA = PublicKeyInfo.schema({
  names: { blockName: 'spki', algorithm: { names: { blockName: 'algorithm', algorithmIdentifier: 'oid', algorithmParams: 'params' } }, subjectPublicKey: 'key' },
});

/** The fields of a DER SPKI, or undefined when it is not exactly one. */
export function readSpki(der: Uint8Array): SpkiFields | undefined {
  const root = decodeDer(der);
  const m = root && matchSchema(root, SPKI_SCHEMA);
  if (!m || elements(root).length !== 2 || elements(m.algorithm).length > 2) return undefined;
  const publicKey = octetsOfBitString(m.key);
  const curveOid = oidOf(m.params);
  if (!publicKey) return undefined;
  return { algorithm: oidOf(m.oid)!, ...(curveOid !== undefined ? { curveOid } : {}), publicKey };
}
