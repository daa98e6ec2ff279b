// SM2 public-key encryption (GM/T 0003.4) for the unwrap core.
export { SM2P256V1, SM2_CURVE_OID, curveFromHex } from './curve.js';
export type { Sm2CurveParams } from './curve.js';
export { generateSm2KeyPair, parseSm2PrivateKey, sm2PrivateKeyFromScalar } from './sm2-keys.js';
export type { Sm2PrivateKey } from './sm2-keys.js';
export { parseSm2Ciphertext } from './sm2-ciphertext.js';
export { sm2Decrypt, sm2Unwrap } from './sm2-decrypt.js';
export type { Sm2DecryptOptions } from './sm2-decrypt.js';
