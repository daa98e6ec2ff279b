/**
 * The one place for the key structures: SPKI, PKCS#8, RSAPrivateKey, ECPrivateKey, ECParameters
 * and ECDSA-Sig-Value. On pkijs / asn1js: well kept, made for exactly these RFC structures, and
 * strict (exact tags via pkijs's schemas, one DER value, element counts checked here). The one
 * exception is the RSA SPKI, which OpenSSL encodes six times faster (see rsaSpki).
 */
export type { AlgorithmFields } from './algorithm-identifier.js';
export { decodeDer } from './der.js';
export { ecdsaSignatureDer } from './ecdsa-signature.js';
export { ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SM2_CURVE_OID } from './oids.js';
export {
  bareKeyFormat, ecPrivateKeyInfo, readEcPrivateKey, readPrivateKeyInfo, readRsaPrivateKey,
  type EcPrivateKeyFields, type PrivateKeyInfoFields, type RsaPrivateKeyFields,
} from './private-key-info.js';
export { ecParametersDer, ecSpki, readSpki, rsaSpki, type SpkiFields } from './spki.js';
