/** AlgorithmIdentifier (RFC 5280 §4.1.1.2), as both SPKI and PKCS#8 carry it. */
import * as asn1js from 'asn1js';
import { elements, oidOf } from './der.js';

export interface AlgorithmFields {
  /** The algorithm OID (rsaEncryption, id-ecPublicKey, ...). */
  readonly algorithm: string;
  /** The parameters: absent, NULL (RSA), an OID (an EC key's namedCurve), or anything else. */
  readonly parameters: 'absent' | 'null' | 'oid' | 'other';
  /** The parameters when they are an OID. */
  readonly parametersOid?: string;
}

/** The names `readAlgorithm` expects, for pkijs's AlgorithmIdentifier schema inside another. */
export const ALGORITHM_SCHEMA_NAMES = { names: { blockName: 'algorithm', algorithmIdentifier: 'oid', algorithmParams: 'params' } };

/** The AlgorithmIdentifier matched under ALGORITHM_SCHEMA_NAMES, or undefined if it has extra elements. */
export function readAlgorithm(m: Record<string, asn1js.AsnType>): AlgorithmFields | undefined {
  if (elements(m.algorithm).length > 2) return undefined;
  const params = m.params;
  const parametersOid = oidOf(params);
  const parameters = params === undefined ? 'absent' : params instanceof asn1js.Null ? 'null' : parametersOid !== undefined ? 'oid' : 'other';
  return { algorithm: oidOf(m.oid)!, parameters, ...(parametersOid !== undefined ? { parametersOid } : {}) };
}
