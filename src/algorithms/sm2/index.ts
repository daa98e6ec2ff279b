// SM2 public-key encryption (GM/T 0003.4) for the unwrap core.
export { SM2P256V1, SM2_CURVE_OID, curveFromHex, isSm2p256v1, isOnCurve, fieldBytes } from './curve.js';
export type { Sm2CurveParams } from './curve.js';
export { checkSm2KeyPair, generateSm2KeyPair, generateSm2KeyPairNative, parseSm2PrivateKey, sm2PrivateKeyFromScalar, destroySm2PrivateKey, sm2PublicKeyFromSpki } from './sm2-keys.js';
export type { Sm2KeyPairDer, Sm2PrivateKey } from './sm2-keys.js';
export { parseSm2Ciphertext, parseSm2Der, parseSm2Raw, encodeSm2CiphertextDer, encodeSm2CiphertextRaw } from './sm2-ciphertext.js';
export type { Sm2Ciphertext, Sm2Encoding, Sm2Mode } from './sm2-ciphertext.js';
export { sm2Decrypt, sm2Unwrap, sm2UnwrapMasked } from './sm2-decrypt.js';
export type { Sm2DecryptOptions, Sm2Hash } from './sm2-decrypt.js';
export { sm2Engine } from './native-sm2.js';
export type { Sm2EngineChoice, Sm2EngineName } from './native-sm2.js';
