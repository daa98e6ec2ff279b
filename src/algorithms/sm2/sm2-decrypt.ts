/**
 * SM2 public-key decryption (GM/T 0003.4 §7.1 / GB/T 32918.4 §7.1).
 *
 * Scalar multiplication [d]C1, the cost of a decrypt. Measured here per decrypt: sm-crypto
 * ~140/s, @noble/curves' constant-time multiply ~450/s, OpenSSL's ECDH on the SM2 curve through
 * node:crypto ~1,500/s. We use OpenSSL ECDH for sm2p256v1 (constant-time ladder in C, and it
 * rejects points off the curve), and @noble/curves' constant-time multiply for any other curve
 * (the GB/T 32918 test-curve vectors). ECDH yields only x2, so y2 is recovered as a square root;
 * both roots are tried *every* time (KDF, C2 xor, C3 hash for each) and the right one is
 * selected with masks, so no branch depends on which root was right.
 *
 * Honest limits: BigInt arithmetic (the square root) is not constant-time in JS engines; it
 * runs on x2 for every ciphertext regardless of validity. The C3 compare is constant-time
 * (timingSafeEqual) and every failure is the one uniform error.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import { decryptMaterialFailed } from '../../errors.js';
import { concatBytes as concat, zeroize } from '../../bytes.js';
import { SM2P256V1, type Sm2CurveParams } from './curve.js';
import { parseSm2Ciphertext, SM2_FIELD_BYTES, type Sm2Encoding, type Sm2Mode } from './sm2-ciphertext.js';
import type { Sm2PrivateKey } from './sm2-keys.js';

export type Sm2Hash = 'sm3' | 'sha256';

export interface Sm2DecryptOptions {
  readonly curve?: Sm2CurveParams;
  /** SM3 is the standard; SHA-256 exists only for a non-standard variant's vectors. */
  readonly hash?: Sm2Hash;
  readonly mode?: Sm2Mode;
  readonly encoding?: Sm2Encoding | 'auto';
}

function toBytes32(v: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(v.toString(16).padStart(SM2_FIELD_BYTES * 2, '0'), 'hex'));
}

function toBigInt(b: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(b).toString('hex'));
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = base % m;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

const pointCache = new WeakMap<Sm2CurveParams, ReturnType<typeof weierstrass<bigint>>>();
function nobleCurve(curve: Sm2CurveParams) {
  let Point = pointCache.get(curve);
  if (!Point) {
    Point = weierstrass<bigint>({ p: curve.p, n: curve.n, h: curve.h, a: curve.a, b: curve.b, Gx: curve.gx, Gy: curve.gy });
    pointCache.set(curve, Point);
  }
  return Point;
}

/** [d]C1 as (x2, candidate y2 values). Invalid or off-curve C1 → the uniform error. */
function sharedPointCandidates(key: Sm2PrivateKey, c1: Uint8Array): { x2: Uint8Array; ys: Uint8Array[] } {
  const curve = key.curve;
  if (key.ecdh) {
    let x2: Uint8Array;
    try {
      x2 = new Uint8Array(key.ecdh.computeSecret(Buffer.from(c1)));
    } catch {
      throw decryptMaterialFailed();
    }
    // y2² = x2³ + a·x2 + b; p ≡ 3 (mod 4) so the roots are ±rhs^((p+1)/4).
    const x = toBigInt(x2);
    const rhs = (((x * x) % curve.p) * x + curve.a * x + curve.b) % curve.p;
    const y = modPow(rhs, (curve.p + 1n) / 4n, curve.p);
    return { x2, ys: [toBytes32(y), toBytes32((curve.p - y) % curve.p)] };
  }
  const Point = nobleCurve(curve);
  try {
    const p = Point.fromBytes(c1);
    p.assertValidity();
    if (p.is0()) throw new Error('identity');
    const q = p.multiply(toBigInt(key.d)).toAffine();
    return { x2: toBytes32(q.x), ys: [toBytes32(q.y)] };
  } catch {
    throw decryptMaterialFailed();
  }
}

/** KDF (GM/T 0003.4 §5.4.3): Hash(Z ‖ ct) for a 32-bit big-endian counter from 1. */
function kdf(hash: Sm2Hash, z: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  for (let i = 1, off = 0; off < length; i++) {
    new DataView(counter.buffer).setUint32(0, i);
    const block = createHash(hash).update(z).update(counter).digest();
    out.set(block.subarray(0, Math.min(block.length, length - off)), off);
    block.fill(0);
    off += block.length;
  }
  return out;
}



export function sm2Decrypt(key: Sm2PrivateKey, ciphertext: Uint8Array, options: Sm2DecryptOptions = {}): Uint8Array {
  if (options.curve && options.curve !== key.curve) throw decryptMaterialFailed();
  const hash = options.hash ?? 'sm3';
  const { c1, c2, c3 } = parseSm2Ciphertext(ciphertext, options.encoding ?? 'auto', options.mode ?? 'C1C3C2');
  const { x2, ys } = sharedPointCandidates(key, c1);
  const result = new Uint8Array(c2.length);
  let anyGood = 0;
  const scratch: Uint8Array[] = [x2];
  try {
    for (const y2 of ys) {
      scratch.push(y2);
      const z = concat(x2, y2);
      scratch.push(z);
      const t = kdf(hash, z, c2.length);
      scratch.push(t);
      // t all zero → reject (§7.1 B4): OR of every byte, no early exit.
      let tOr = 0;
      for (let i = 0; i < t.length; i++) tOr |= t[i];
      const m = new Uint8Array(c2.length);
      scratch.push(m);
      for (let i = 0; i < m.length; i++) m[i] = c2[i] ^ t[i];
      const u = createHash(hash).update(x2).update(m).update(y2).digest();
      const good = (timingSafeEqual(u, c3) ? 1 : 0) & (((tOr - 1) >>> 31) ^ 1) & (t.length === 0 ? 0 : 1);
      const mask = -good & 0xff;
      for (let i = 0; i < m.length; i++) result[i] |= m[i] & mask;
      anyGood |= good;
    }
    if (anyGood !== 1) {
      zeroize(result);
      throw decryptMaterialFailed();
    }
    return result;
  } finally {
    zeroize(...scratch);
  }
}

/**
 * The import path: sm2p256v1, SM3, C1C3C2, DER or raw (told apart by the public first byte).
 * A wrong material length fails with the same error as everything else.
 */
export function sm2Unwrap(key: Sm2PrivateKey, ciphertext: Uint8Array, expectedLength: number): Uint8Array {
  if (key.curve !== SM2P256V1) throw decryptMaterialFailed();
  const plaintext = sm2Decrypt(key, ciphertext, { hash: 'sm3', mode: 'C1C3C2', encoding: 'auto' });
  if (plaintext.length !== expectedLength) {
    zeroize(plaintext);
    throw decryptMaterialFailed();
  }
  return plaintext;
}
