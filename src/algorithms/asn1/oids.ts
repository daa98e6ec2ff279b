/** Object identifiers of the key structures (RFC 8017 A.1, RFC 5480 §2.1.1, GM/T 0006). */
export const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
/** sm2p256v1: the namedCurve of SM2 keys, and the algorithm of OpenSSL 1.1.1's SM2 PKCS#8. */
export const SM2_CURVE_OID = '1.2.156.10197.1.301';
