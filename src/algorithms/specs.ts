/**
 * The one table of wrapping algorithms, wrapping key specs and material specs.
 * Everything else looks names up here; no scattered string compares.
 */
import { ByokError } from '../errors.js';

/** The import wrapping key pair's spec: RSA of 2048, 3072 or 4096 bits, or SM2 (sm2p256v1). */
export type WrappingKeySpec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'SM2';
/** How key material is wrapped for import (the KMS APIs' wrapping_algorithm / WrappingAlgorithm). */
export type WrappingAlgorithm =
  | 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1' | 'RSAES_PKCS1_V1_5' | 'SM2_ENCRYPT'
  | 'RSA_AES_KEY_WRAP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_1';
/** Another accepted name of a wrapping algorithm (AWS's SM2PKE for SM2_ENCRYPT). */
export type WrappingAlgorithmAlias = 'SM2PKE';
/** A symmetric key's spec. */
export type SymmetricSpec = 'AES_256' | 'SM4_128';
/** An HMAC key's spec (the key is as long as the hash). */
export type HmacSpec = 'HMAC_224' | 'HMAC_256' | 'HMAC_384' | 'HMAC_512';
/** An asymmetric key's spec. */
export type PrivateKeySpec =
  | 'RSA_2048' | 'RSA_3072' | 'RSA_4096'
  | 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521' | 'ECC_SECG_P256K1' | 'SM2';
/** What a key holds: a symmetric key, an HMAC key or an asymmetric private key (the key spec). */
export type MaterialSpec = SymmetricSpec | HmacSpec | PrivateKeySpec;

/** The family of a wrapping key pair. */
export type KeyFamily = 'RSA' | 'SM2';
/** The RSA encryption padding of an RSA wrapping algorithm (RFC 8017 §7.1 OAEP, §7.2 PKCS#1 v1.5). */
export type RsaPadding =
  | { kind: 'oaep'; hash: 'sha1' | 'sha256' }
  | { kind: 'pkcs1v15' };

/** One row of WRAPPING_KEY_SPECS. */
export interface WrappingKeySpecInfo {
  readonly name: WrappingKeySpec;
  readonly family: KeyFamily;
  /** RSA modulus size in bits; 256 for SM2 (the curve order size). */
  readonly bits: number;
}

/** One row of WRAPPING_ALGORITHMS. */
export interface WrappingAlgorithmInfo {
  readonly name: WrappingAlgorithm;
  readonly family: KeyFamily;
  /** RSA padding; undefined for SM2. */
  readonly rsaPadding?: RsaPadding;
  /** Other names accepted on input (e.g. AWS's SM2PKE). */
  readonly aliases: readonly string[];
  /**
   * AWS/Vault/GCP's single blob: RSA-OAEP(temporary AES-256 key) ‖ RFC 5649 wrap of the key
   * under it, split at the wrapping key's modulus length. `rsaPadding` is the first half's.
   */
  readonly envelope?: boolean;
}

/** The elliptic curves of the EC and SM2 key specs. */
export type EcCurve = 'P-256' | 'P-384' | 'P-521' | 'secp256k1' | 'SM2';

/** What an asymmetric key spec is: RSA of a modulus size, or EC on a named curve. */
export type PrivateKeyInfo =
  | { readonly type: 'rsa'; readonly bits: 2048 | 3072 | 4096 }
  | {
    readonly type: 'ec'; readonly curve: EcCurve;
    /** The namedCurve OID in SPKI / PKCS#8. */
    readonly curveOid: string;
    /** OpenSSL's curve name (node:crypto createECDH). */
    readonly opensslName: string;
    /** Field / scalar size in bytes. */
    readonly bytes: number;
  };

/** What a key may be used for; it follows from its spec. */
export type KeyUsage = 'ENCRYPT_DECRYPT' | 'GENERATE_VERIFY_MAC' | 'SIGN_VERIFY';

/** One row of MATERIAL_SPECS. */
export interface MaterialSpecInfo {
  readonly name: MaterialSpec;
  readonly kind: 'symmetric' | 'hmac' | 'private-key';
  readonly usage: KeyUsage;
  /**
   * Exact length in bytes of secret material that arrives wrapped directly (symmetric and HMAC
   * keys); 0 for private keys, which arrive as PKCS#8 under a temporary AES key.
   */
  readonly length: number;
  /** Symmetric keys: the cipher the imported key is used with. */
  readonly cipher?: 'aes-256-gcm' | 'sm4';
  /** HMAC keys: the hash (the one MAC algorithm the key serves). */
  readonly hmacHash?: 'sha224' | 'sha256' | 'sha384' | 'sha512';
  readonly privateKey?: PrivateKeyInfo;
}

/** The wrapping key specs: family and size. */
export const WRAPPING_KEY_SPECS: Readonly<Record<WrappingKeySpec, WrappingKeySpecInfo>> = {
  RSA_2048: { name: 'RSA_2048', family: 'RSA', bits: 2048 },
  RSA_3072: { name: 'RSA_3072', family: 'RSA', bits: 3072 },
  RSA_4096: { name: 'RSA_4096', family: 'RSA', bits: 4096 },
  SM2: { name: 'SM2', family: 'SM2', bits: 256 },
};

/** The wrapping algorithms: the key family each pairs with, its padding, and whether it is an envelope (RSA-OAEP of a temporary AES key, then RFC 5649). */
export const WRAPPING_ALGORITHMS: Readonly<Record<WrappingAlgorithm, WrappingAlgorithmInfo>> = {
  RSAES_OAEP_SHA_256: { name: 'RSAES_OAEP_SHA_256', family: 'RSA', rsaPadding: { kind: 'oaep', hash: 'sha256' }, aliases: [] },
  RSAES_OAEP_SHA_1: { name: 'RSAES_OAEP_SHA_1', family: 'RSA', rsaPadding: { kind: 'oaep', hash: 'sha1' }, aliases: [] },
  RSAES_PKCS1_V1_5: { name: 'RSAES_PKCS1_V1_5', family: 'RSA', rsaPadding: { kind: 'pkcs1v15' }, aliases: [] },
  SM2_ENCRYPT: { name: 'SM2_ENCRYPT', family: 'SM2', aliases: ['SM2PKE'] },
  RSA_AES_KEY_WRAP_SHA_256: { name: 'RSA_AES_KEY_WRAP_SHA_256', family: 'RSA', rsaPadding: { kind: 'oaep', hash: 'sha256' }, aliases: [], envelope: true },
  RSA_AES_KEY_WRAP_SHA_1: { name: 'RSA_AES_KEY_WRAP_SHA_1', family: 'RSA', rsaPadding: { kind: 'oaep', hash: 'sha1' }, aliases: [], envelope: true },
};

/** The plain RSAES algorithm that unwraps an envelope algorithm's first half. */
export function envelopeKeyAlgorithm(algorithm: WrappingAlgorithm): WrappingAlgorithm {
  switch (algorithm) {
    case 'RSA_AES_KEY_WRAP_SHA_256': return 'RSAES_OAEP_SHA_256';
    case 'RSA_AES_KEY_WRAP_SHA_1': return 'RSAES_OAEP_SHA_1';
    default: return algorithm;
  }
}

const ec = (curve: EcCurve, curveOid: string, opensslName: string, bytes: number): PrivateKeyInfo => ({ type: 'ec', curve, curveOid, opensslName, bytes });

/** The key specs: what each holds, its length and usage. */
export const MATERIAL_SPECS: Readonly<Record<MaterialSpec, MaterialSpecInfo>> = {
  AES_256: { name: 'AES_256', kind: 'symmetric', usage: 'ENCRYPT_DECRYPT', length: 32, cipher: 'aes-256-gcm' },
  SM4_128: { name: 'SM4_128', kind: 'symmetric', usage: 'ENCRYPT_DECRYPT', length: 16, cipher: 'sm4' },
  HMAC_224: { name: 'HMAC_224', kind: 'hmac', usage: 'GENERATE_VERIFY_MAC', length: 28, hmacHash: 'sha224' },
  HMAC_256: { name: 'HMAC_256', kind: 'hmac', usage: 'GENERATE_VERIFY_MAC', length: 32, hmacHash: 'sha256' },
  HMAC_384: { name: 'HMAC_384', kind: 'hmac', usage: 'GENERATE_VERIFY_MAC', length: 48, hmacHash: 'sha384' },
  HMAC_512: { name: 'HMAC_512', kind: 'hmac', usage: 'GENERATE_VERIFY_MAC', length: 64, hmacHash: 'sha512' },
  RSA_2048: { name: 'RSA_2048', kind: 'private-key', usage: 'SIGN_VERIFY', length: 0, privateKey: { type: 'rsa', bits: 2048 } },
  RSA_3072: { name: 'RSA_3072', kind: 'private-key', usage: 'SIGN_VERIFY', length: 0, privateKey: { type: 'rsa', bits: 3072 } },
  RSA_4096: { name: 'RSA_4096', kind: 'private-key', usage: 'SIGN_VERIFY', length: 0, privateKey: { type: 'rsa', bits: 4096 } },
  ECC_NIST_P256: { name: 'ECC_NIST_P256', kind: 'private-key', usage: 'SIGN_VERIFY', length: 0, privateKey: ec('P-256', '1.2.840.10045.3.1.7', 'prime256v1', 32) },
  ECC_NIST_P384: { name: 'ECC_NIST_P384', kind: 'private-key', usage: 'SIGN_VERIFY', length: 0, privateKey: ec('P-384', '1.3.132.0.34', 'secp384r1', 48) },
  ECC_NIST_P521: { name: 'ECC_NIST_P521', kind: 'private-key', usage: 'SIGN_VERIFY', length: 0, privateKey: ec('P-521', '1.3.132.0.35', 'secp521r1', 66) },
  ECC_SECG_P256K1: { name: 'ECC_SECG_P256K1', kind: 'private-key', usage: 'SIGN_VERIFY', length: 0, privateKey: ec('secp256k1', '1.3.132.0.10', 'secp256k1', 32) },
  SM2: { name: 'SM2', kind: 'private-key', usage: 'SIGN_VERIFY', length: 0, privateKey: ec('SM2', '1.2.156.10197.1.301', 'SM2', 32) },
};

/** Other names accepted for key specs on input (Huawei's and Tencent's spellings). */
const MATERIAL_SPEC_ALIASES: Readonly<Record<string, MaterialSpec>> = {
  SM4: 'SM4_128', EC_P256: 'ECC_NIST_P256', EC_P384: 'ECC_NIST_P384', EC_P521: 'ECC_NIST_P521', EC_SECP256K1: 'ECC_SECG_P256K1',
};

/** Signing algorithms (AWS / Huawei names) and the key specs each serves. */
export type SigningAlgorithm =
  | 'RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_384' | 'RSASSA_PKCS1_V1_5_SHA_512'
  | 'RSASSA_PSS_SHA_256' | 'RSASSA_PSS_SHA_384' | 'RSASSA_PSS_SHA_512'
  | 'ECDSA_SHA_256' | 'ECDSA_SHA_384' | 'ECDSA_SHA_512' | 'SM2DSA';

/** One row of SIGNING_ALGORITHMS. */
export interface SigningAlgorithmInfo {
  readonly name: SigningAlgorithm;
  readonly keyType: 'rsa' | 'ec' | 'sm2';
  readonly hash: 'sha256' | 'sha384' | 'sha512' | 'sm3';
  /** RSA only. PSS uses a salt as long as the hash (AWS, OpenSSL's rsa_pss_saltlen:digest). */
  readonly rsaPadding?: 'pkcs1' | 'pss';
  /** ECDSA: the curves it pairs with (AWS's pairing; any hash is safe, the pairing is policy). */
  readonly curves?: readonly EcCurve[];
  readonly aliases: readonly string[];
}

const rsaSig = (name: SigningAlgorithm, rsaPadding: 'pkcs1' | 'pss', hash: 'sha256' | 'sha384' | 'sha512'): SigningAlgorithmInfo => ({ name, keyType: 'rsa', hash, rsaPadding, aliases: [] });

/** The signing algorithms: key type, hash, RSA padding and accepted aliases. */
export const SIGNING_ALGORITHMS: Readonly<Record<SigningAlgorithm, SigningAlgorithmInfo>> = {
  RSASSA_PKCS1_V1_5_SHA_256: rsaSig('RSASSA_PKCS1_V1_5_SHA_256', 'pkcs1', 'sha256'),
  RSASSA_PKCS1_V1_5_SHA_384: rsaSig('RSASSA_PKCS1_V1_5_SHA_384', 'pkcs1', 'sha384'),
  RSASSA_PKCS1_V1_5_SHA_512: rsaSig('RSASSA_PKCS1_V1_5_SHA_512', 'pkcs1', 'sha512'),
  RSASSA_PSS_SHA_256: rsaSig('RSASSA_PSS_SHA_256', 'pss', 'sha256'),
  RSASSA_PSS_SHA_384: rsaSig('RSASSA_PSS_SHA_384', 'pss', 'sha384'),
  RSASSA_PSS_SHA_512: rsaSig('RSASSA_PSS_SHA_512', 'pss', 'sha512'),
  ECDSA_SHA_256: { name: 'ECDSA_SHA_256', keyType: 'ec', hash: 'sha256', curves: ['P-256', 'secp256k1'], aliases: [] },
  ECDSA_SHA_384: { name: 'ECDSA_SHA_384', keyType: 'ec', hash: 'sha384', curves: ['P-384'], aliases: [] },
  ECDSA_SHA_512: { name: 'ECDSA_SHA_512', keyType: 'ec', hash: 'sha512', curves: ['P-521'], aliases: [] },
  SM2DSA: { name: 'SM2DSA', keyType: 'sm2', hash: 'sm3', aliases: ['SM2DSA_SM3'] },
};

/**
 * What a signing call's message is: RAW, hashed by the algorithm; DIGEST, already hashed with the
 * algorithm's hash (for SM2DSA: SM3(Z_A ‖ M) with the default ID, GM/T 0003.2 §6.1).
 */
export type MessageType = 'RAW' | 'DIGEST';

const DIGEST_LENGTH: Readonly<Record<SigningAlgorithmInfo['hash'], number>> = { sha256: 32, sha384: 48, sha512: 64, sm3: 32 };

/** A DIGEST message is exactly as long as the algorithm's hash; anything else is INVALID_PARAMETER. */
export function checkDigestLength(alg: SigningAlgorithm, messageType: MessageType, message: Uint8Array): void {
  const length = DIGEST_LENGTH[SIGNING_ALGORITHMS[alg].hash];
  if (messageType === 'DIGEST' && message.length !== length) throw new ByokError('INVALID_PARAMETER', `A ${alg} digest is ${length} bytes.`);
}

/** RAW or DIGEST (default RAW); anything else is INVALID_PARAMETER. */
export function parseMessageType(name: unknown): MessageType {
  if (name === undefined || name === 'RAW') return 'RAW';
  if (name === 'DIGEST') return 'DIGEST';
  throw new ByokError('INVALID_PARAMETER', 'messageType must be RAW or DIGEST.');
}

/** The HMAC algorithms (AWS / Huawei names). */
export type MacAlgorithm = 'HMAC_SHA_224' | 'HMAC_SHA_256' | 'HMAC_SHA_384' | 'HMAC_SHA_512';

/** The MAC algorithm of each HMAC key spec (one each: the key length is the hash's). */
export const MAC_ALGORITHM_OF: Readonly<Record<HmacSpec, MacAlgorithm>> = {
  HMAC_224: 'HMAC_SHA_224', HMAC_256: 'HMAC_SHA_256', HMAC_384: 'HMAC_SHA_384', HMAC_512: 'HMAC_SHA_512',
};

/** The wrapping key spec when an RSA algorithm names none. */
export const DEFAULT_WRAPPING_KEY_SPEC: WrappingKeySpec = 'RSA_2048';
/** The key spec when createKey names none. */
export const DEFAULT_MATERIAL_SPEC: MaterialSpec = 'AES_256';

/** Default key spec for an algorithm when the caller names none. */
export function defaultKeySpecFor(algorithm: WrappingAlgorithm): WrappingKeySpec {
  return WRAPPING_ALGORITHMS[algorithm].family === 'SM2' ? 'SM2' : DEFAULT_WRAPPING_KEY_SPEC;
}

function lookup<T extends string>(table: Readonly<Record<T, unknown>>, name: unknown): T | undefined {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(table, name) ? (name as T) : undefined;
}

/** A wrapping algorithm by name (aliases accepted); anything else is INVALID_PARAMETER. */
export function parseWrappingAlgorithm(name: unknown): WrappingAlgorithm {
  const direct = lookup<WrappingAlgorithm>(WRAPPING_ALGORITHMS, name);
  if (direct) return direct;
  for (const info of Object.values(WRAPPING_ALGORITHMS)) {
    if (typeof name === 'string' && info.aliases.includes(name)) return info.name;
  }
  throw new ByokError('INVALID_PARAMETER', `Unknown wrapping algorithm: ${String(name).slice(0, 40)}`);
}

/** A wrapping key spec by name; anything else is INVALID_PARAMETER. */
export function parseWrappingKeySpec(name: unknown): WrappingKeySpec {
  const spec = lookup<WrappingKeySpec>(WRAPPING_KEY_SPECS, name);
  if (!spec) throw new ByokError('INVALID_PARAMETER', `Unknown wrapping key spec: ${String(name).slice(0, 40)}`);
  return spec;
}

/** A key spec by name (the cloud APIs' aliases accepted); anything else is INVALID_PARAMETER. */
export function parseMaterialSpec(name: unknown): MaterialSpec {
  const spec = lookup<MaterialSpec>(MATERIAL_SPECS, name) ?? lookup<MaterialSpec>(MATERIAL_SPEC_ALIASES, name);
  if (!spec) throw new ByokError('INVALID_PARAMETER', `Unknown key spec: ${String(name).slice(0, 40)}`);
  return (MATERIAL_SPEC_ALIASES as Record<string, MaterialSpec>)[spec] ?? spec;
}

function signingAlgorithmFits(alg: SigningAlgorithmInfo, spec: MaterialSpec): boolean {
  const key = MATERIAL_SPECS[spec].privateKey;
  if (key === undefined) return false;
  if (key.type === 'rsa') return alg.keyType === 'rsa';
  return key.curve === 'SM2' ? alg.keyType === 'sm2' : alg.keyType === 'ec' && alg.curves!.includes(key.curve);
}

/** The signing algorithms a key spec can use (none for symmetric and HMAC keys). */
export function signingAlgorithmsFor(spec: MaterialSpec): SigningAlgorithm[] {
  return Object.values(SIGNING_ALGORITHMS).filter((a) => signingAlgorithmFits(a, spec)).map((a) => a.name);
}

/** A signing algorithm the key spec can use; anything else is INVALID_PARAMETER. */
export function parseSigningAlgorithm(name: unknown, spec: MaterialSpec): SigningAlgorithm {
  let found = lookup<SigningAlgorithm>(SIGNING_ALGORITHMS, name);
  if (!found) found = Object.values(SIGNING_ALGORITHMS).find((a) => typeof name === 'string' && a.aliases.includes(name))?.name;
  if (!found) throw new ByokError('INVALID_PARAMETER', `Unknown signing algorithm: ${String(name).slice(0, 40)}`);
  if (!signingAlgorithmFits(SIGNING_ALGORITHMS[found], spec)) throw new ByokError('INVALID_PARAMETER', `Signing algorithm ${found} cannot be used with a ${spec} key.`);
  return found;
}

/** SM2 pairs only with SM2_ENCRYPT, RSA specs only with the RSA algorithms. */
export function assertCompatible(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec): void {
  if (WRAPPING_ALGORITHMS[algorithm].family !== WRAPPING_KEY_SPECS[keySpec].family) {
    throw new ByokError('INVALID_PARAMETER', `Wrapping algorithm ${algorithm} cannot be used with key spec ${keySpec}.`);
  }
}

/** Every (algorithm, key spec) pair the table allows; the envelope algorithms only if asked. */
export function allWrappingCombinations(options: { envelope?: boolean } = {}): Array<{ algorithm: WrappingAlgorithm; keySpec: WrappingKeySpec }> {
  const out: Array<{ algorithm: WrappingAlgorithm; keySpec: WrappingKeySpec }> = [];
  for (const a of Object.values(WRAPPING_ALGORITHMS)) {
    if (a.envelope && !options.envelope) continue;
    for (const s of Object.values(WRAPPING_KEY_SPECS)) {
      if (a.family === s.family) out.push({ algorithm: a.name, keySpec: s.name });
    }
  }
  return out;
}
