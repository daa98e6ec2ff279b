/**
 * The one table of wrapping algorithms, wrapping key specs and material specs.
 * Everything else looks names up here; no scattered string compares.
 */
import { ByokError } from '../errors.js';

export type WrappingKeySpec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'SM2';
export type WrappingAlgorithm = 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1' | 'RSAES_PKCS1_V1_5' | 'SM2_ENCRYPT';
export type MaterialSpec = 'AES_256' | 'SM4_128';

export type KeyFamily = 'RSA' | 'SM2';
export type RsaPadding =
  | { kind: 'oaep'; hash: 'sha1' | 'sha256' }
  | { kind: 'pkcs1v15' };

export interface WrappingKeySpecInfo {
  readonly name: WrappingKeySpec;
  readonly family: KeyFamily;
  /** RSA modulus size in bits; 256 for SM2 (the curve order size). */
  readonly bits: number;
}

export interface WrappingAlgorithmInfo {
  readonly name: WrappingAlgorithm;
  readonly family: KeyFamily;
  /** RSA padding; undefined for SM2. */
  readonly rsaPadding?: RsaPadding;
  /** Other names accepted on input (e.g. AWS's SM2PKE). */
  readonly aliases: readonly string[];
}

export interface MaterialSpecInfo {
  readonly name: MaterialSpec;
  /** Exact length of the material in bytes. */
  readonly length: number;
  /** The symmetric cipher the imported key is used with. */
  readonly cipher: 'aes-256-gcm' | 'sm4';
}

export const WRAPPING_KEY_SPECS: Readonly<Record<WrappingKeySpec, WrappingKeySpecInfo>> = {
  RSA_2048: { name: 'RSA_2048', family: 'RSA', bits: 2048 },
  RSA_3072: { name: 'RSA_3072', family: 'RSA', bits: 3072 },
  RSA_4096: { name: 'RSA_4096', family: 'RSA', bits: 4096 },
  SM2: { name: 'SM2', family: 'SM2', bits: 256 },
};

export const WRAPPING_ALGORITHMS: Readonly<Record<WrappingAlgorithm, WrappingAlgorithmInfo>> = {
  RSAES_OAEP_SHA_256: { name: 'RSAES_OAEP_SHA_256', family: 'RSA', rsaPadding: { kind: 'oaep', hash: 'sha256' }, aliases: [] },
  RSAES_OAEP_SHA_1: { name: 'RSAES_OAEP_SHA_1', family: 'RSA', rsaPadding: { kind: 'oaep', hash: 'sha1' }, aliases: [] },
  RSAES_PKCS1_V1_5: { name: 'RSAES_PKCS1_V1_5', family: 'RSA', rsaPadding: { kind: 'pkcs1v15' }, aliases: [] },
  SM2_ENCRYPT: { name: 'SM2_ENCRYPT', family: 'SM2', aliases: ['SM2PKE'] },
};

export const MATERIAL_SPECS: Readonly<Record<MaterialSpec, MaterialSpecInfo>> = {
  AES_256: { name: 'AES_256', length: 32, cipher: 'aes-256-gcm' },
  SM4_128: { name: 'SM4_128', length: 16, cipher: 'sm4' },
};

export const DEFAULT_WRAPPING_KEY_SPEC: WrappingKeySpec = 'RSA_2048';
export const DEFAULT_MATERIAL_SPEC: MaterialSpec = 'AES_256';

/** Default key spec for an algorithm when the caller names none. */
export function defaultKeySpecFor(algorithm: WrappingAlgorithm): WrappingKeySpec {
  return WRAPPING_ALGORITHMS[algorithm].family === 'SM2' ? 'SM2' : DEFAULT_WRAPPING_KEY_SPEC;
}

function lookup<T extends string>(table: Readonly<Record<T, unknown>>, name: unknown): T | undefined {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(table, name) ? (name as T) : undefined;
}

export function parseWrappingAlgorithm(name: unknown): WrappingAlgorithm {
  const direct = lookup<WrappingAlgorithm>(WRAPPING_ALGORITHMS, name);
  if (direct) return direct;
  for (const info of Object.values(WRAPPING_ALGORITHMS)) {
    if (typeof name === 'string' && info.aliases.includes(name)) return info.name;
  }
  throw new ByokError('INVALID_PARAMETER', `Unknown wrapping algorithm: ${String(name).slice(0, 40)}`);
}

export function parseWrappingKeySpec(name: unknown): WrappingKeySpec {
  const spec = lookup<WrappingKeySpec>(WRAPPING_KEY_SPECS, name);
  if (!spec) throw new ByokError('INVALID_PARAMETER', `Unknown wrapping key spec: ${String(name).slice(0, 40)}`);
  return spec;
}

export function parseMaterialSpec(name: unknown): MaterialSpec {
  const spec = lookup<MaterialSpec>(MATERIAL_SPECS, name);
  if (!spec) throw new ByokError('INVALID_PARAMETER', `Unknown material spec: ${String(name).slice(0, 40)}`);
  return spec;
}

/** SM2 pairs only with SM2_ENCRYPT, RSA specs only with the RSA algorithms. */
export function assertCompatible(algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec): void {
  if (WRAPPING_ALGORITHMS[algorithm].family !== WRAPPING_KEY_SPECS[keySpec].family) {
    throw new ByokError('INVALID_PARAMETER', `Wrapping algorithm ${algorithm} cannot be used with key spec ${keySpec}.`);
  }
}

/** Every (algorithm, key spec) pair the table allows. */
export function allWrappingCombinations(): Array<{ algorithm: WrappingAlgorithm; keySpec: WrappingKeySpec }> {
  const out: Array<{ algorithm: WrappingAlgorithm; keySpec: WrappingKeySpec }> = [];
  for (const a of Object.values(WRAPPING_ALGORITHMS)) {
    for (const s of Object.values(WRAPPING_KEY_SPECS)) {
      if (a.family === s.family) out.push({ algorithm: a.name, keySpec: s.name });
    }
  }
  return out;
}
