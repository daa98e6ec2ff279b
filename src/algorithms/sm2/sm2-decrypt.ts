/**
 * SM2 public-key decryption, GM/T 0003.4-2012 §7.1 (= GB/T 32918.4-2016 §7.1), steps B1–B7.
 *
 * Scalar-multiplication engine (B3, [d]C1: the whole cost of a decrypt). Measured here, one
 * decrypt each: sm-crypto doDecrypt ~140/s, @noble/curves' constant-time `multiply` ~450/s,
 * node `createECDH('SM2').computeSecret` ~1,500/s (quiet machine; ~950/s with the 2 cores
 * shared). computeSecret runs OpenSSL's constant-time Montgomery ladder in C and rejects C1 off
 * the curve. Node also re-checks our own key pair on every call (EC_KEY_check_key: n·Q = O and
 * [d]G = Q), about 2/3 of its cost: in C on this machine ECDH_compute_key alone ran ~2,000/s and
 * with EC_KEY_check_key ~800/s, node's figure; only native code could drop that. Even so it is
 * the only engine here that meets the throughput goal (≥ 10× sm-crypto), so sm2p256v1 uses it.
 * It returns x2 only, so y2 is recovered from the curve equation (below). Any other
 * curve (the GB/T 32918 example curve of the published vectors) uses @noble/curves built from
 * the curve's parameters, so those vectors run instead of being skipped; that path is for the
 * known-answer runner, never the import path (sm2Unwrap refuses any curve but sm2p256v1).
 *
 * Recovering y2 (secret, like x2). y2² = x2³ + a·x2 + b has two roots, y and p − y, and only
 * C3 tells which one is [d]C1's. Both candidates are computed on every call, and both go
 * through KDF, XOR and the C3 hash; the plaintext is selected with masks, so nothing branches
 * on which root was right. One root comes from OpenSSL (ECDH.convertKey of a compressed point
 * 02/03 ‖ x2: BN_mod_sqrt, which for p ≡ 3 (mod 4) is a^((p+1)/4) with a public exponent, in
 * Montgomery arithmetic, ~40 µs); the other is p − y, a branch-free byte subtraction here.
 * OpenSSL returns the requested parity with one conditional subtraction (taken when its root
 * has the other parity, a function of the secret x2), so the parity asked for is a fresh random
 * bit: whether that subtraction runs is then independent of the secret. The alternative, BigInt
 * modPow in JS, measured ~170–230 µs and is not constant-time: V8 BigInt multiply and modulo
 * times depend on the operands' lengths, i.e. on the secret; OpenSSL's BN code is closer (fixed
 * Montgomery multiplications, though it trims leading zero limbs). No BigInt ever holds a secret
 * on this path (BigInts cannot be wiped).
 *
 * A key made while the SM2 addon is loaded (native-sm2.ts) decrypts there instead: the same
 * steps in C on node's OpenSSL, where [d]C1 gives y2 directly (one candidate, no square root),
 * with the same framing, checks and single failure; this file is the fallback and the reference
 * the addon is tested against.
 *
 * Every failure, whatever the step, is decryptMaterialFailed(): one code, one message (jose: no
 * oracle telling format, point, hash and length errors apart). Public facts (framing, C1, the
 * C2 length) may fail early; the secret-dependent checks (t ≠ 0 for both candidates, C3 for
 * both, and the expected material length) are folded into one flag and reach one throw site
 * after all the work is done. Secret buffers are zeroized in `finally`.
 */
import { createHash, ECDH, randomBytes } from 'node:crypto';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import { ByokError, decryptMaterialFailed } from '../../errors.js';
import { bigIntToBytes, bytesToBigInt, equalBytes, zeroize } from '../../bytes.js';
import { expectGood, type MaskedDecode } from '../rsa/ct.js';
import { fieldBytes, isOnCurve, isSm2p256v1, type Sm2CurveParams } from './curve.js';
import { NATIVE_ENCODING, NATIVE_HASH, NATIVE_MODE, nativeSm2 } from './native-sm2.js';
import { parseSm2Ciphertext, type Sm2Encoding, type Sm2Mode } from './sm2-ciphertext.js';
import type { Sm2PrivateKey } from './sm2-keys.js';

export type Sm2Hash = 'sm3' | 'sha256';

export interface Sm2DecryptOptions {
  /** Defaults to the key's curve; if given, it must have the key's curve parameters. */
  readonly curve?: Sm2CurveParams;
  /** SM3 is the standard. SHA-256 exists only to run a non-standard variant's vectors. */
  readonly hash?: Sm2Hash;
  /** Field order of raw ciphertexts (DER has one order). Default C1C3C2 (GM/T 0003.4-2012). */
  readonly mode?: Sm2Mode;
  /** Default `auto`: DER if the first byte is 30, raw otherwise. */
  readonly encoding?: Sm2Encoding | 'auto';
}

const HASH_BYTES = 32;

type NoblePointCons = ReturnType<typeof weierstrass<bigint>>;
const nobleCurves = new WeakMap<Sm2CurveParams, NoblePointCons>();
function noblePoint(curve: Sm2CurveParams): NoblePointCons {
  let Point = nobleCurves.get(curve);
  if (!Point) {
    Point = weierstrass<bigint>({ p: curve.p, n: curve.n, h: curve.h, a: curve.a, b: curve.b, Gx: curve.gx, Gy: curve.gy });
    nobleCurves.set(curve, Point);
  }
  return Point;
}

const modulusBytes = new WeakMap<Sm2CurveParams, Uint8Array>();

/** p − y for 0 < y < p, over fixed-length bytes with a borrow chain: no secret-dependent branch. */
function negate(y: Uint8Array, curve: Sm2CurveParams): Uint8Array {
  let p = modulusBytes.get(curve);
  if (!p) {
    p = bigIntToBytes(curve.p, y.length);
    modulusBytes.set(curve, p);
  }
  const out = new Uint8Array(y.length);
  let borrow = 0;
  for (let i = y.length - 1; i >= 0; i--) {
    const diff = p[i] - y[i] - borrow;
    out[i] = diff & 0xff;
    borrow = (diff >>> 31) & 1;
  }
  return out;
}

/**
 * B3: x2 and the two candidate y2 values of [d]C1. C1 was already checked on the curve (B1);
 * with h = 1 (enforced when the key is made) an affine point is never the identity (B2), and
 * [d]C1 ≠ O because d ∈ [1, n−1] and every affine point has order n.
 */
function sharedPoint(key: Sm2PrivateKey, c1: Uint8Array, len: number): { x2: Uint8Array; y2: [Uint8Array, Uint8Array] } {
  if (key.ecdh) {
    let x2: Buffer | undefined;
    let compressed: Buffer | undefined;
    let point: Buffer | undefined;
    try {
      x2 = key.ecdh.computeSecret(Buffer.from(c1.buffer, c1.byteOffset, c1.byteLength));
      compressed = Buffer.alloc(1 + len);
      x2.copy(compressed, 1);
      compressed[0] = 0x02 | (randomBytes(1)[0] & 1); // blinds OpenSSL's parity fix-up (see above)
      point = ECDH.convertKey(compressed, 'SM2', undefined, undefined, 'uncompressed') as Buffer;
      const y = new Uint8Array(point.subarray(1 + len));
      return { x2: new Uint8Array(x2), y2: [y, negate(y, key.curve)] };
    } catch {
      throw decryptMaterialFailed();
    } finally {
      zeroize(x2, compressed, point);
    }
  }
  // Other curves, for the known-answer runner only (never the import path): noble's multiply
  // is constant-time as an algorithm, but its field arithmetic is BigInt, which is not, and the
  // BigInts holding d and [d]C1 cannot be wiped.
  const curve = key.curve;
  try {
    const q = noblePoint(curve).fromBytes(c1).multiply(bytesToBigInt(key.d)).toAffine();
    const y = bigIntToBytes(q.y, len);
    return { x2: bigIntToBytes(q.x, len), y2: [y, negate(y, curve)] };
  } catch {
    throw decryptMaterialFailed();
  }
}

/** KDF, GM/T 0003.4 §5.4.3: Hash(Z ‖ ct) for a 32-bit big-endian counter ct = 1, 2, …, truncated to klen. */
function kdf(hash: Sm2Hash, z: Uint8Array, klen: number): Uint8Array {
  const out = new Uint8Array(klen);
  const counter = new Uint8Array(4);
  const view = new DataView(counter.buffer);
  for (let ct = 1, off = 0; off < klen; ct++, off += HASH_BYTES) {
    view.setUint32(0, ct);
    const block = createHash(hash).update(z).update(counter).digest();
    out.set(block.subarray(0, Math.min(HASH_BYTES, klen - off)), off);
    zeroize(block);
  }
  return out;
}

/** 1 if any byte is non-zero, else 0; no early exit. */
function nonZero(t: Uint8Array): number {
  let acc = 0;
  for (let i = 0; i < t.length; i++) acc |= t[i];
  return ((acc - 1) >>> 31) ^ 1;
}

/**
 * B1–B7 for one ciphertext. `expectedLength`, if given, joins the same final failure (the
 * import path: material of the wrong length is the uniform error, not a distinct one).
 */
function decrypt(key: Sm2PrivateKey, ciphertext: Uint8Array, options: Sm2DecryptOptions, expectedLength?: number): MaskedDecode {
  if (options.curve && !sameCurve(options.curve, key.curve)) throw new ByokError('INVALID_PARAMETER', 'The SM2 key is on another curve.');
  const hash = options.hash ?? 'sm3';
  if (hash !== 'sm3' && hash !== 'sha256') throw new ByokError('INVALID_PARAMETER', 'Unknown SM2 hash.');
  const encoding = options.encoding ?? 'auto';
  const mode = options.mode ?? 'C1C3C2';
  if (key.native) {
    // Unknown encodings and modes reach the addon as -1: its framing fails, as parse below does.
    const decoded = nativeSm2()!.decrypt(key.native, ciphertext, NATIVE_HASH[hash], NATIVE_ENCODING[encoding] ?? -1, NATIVE_MODE[mode] ?? -1, expectedLength ?? -1);
    if (!decoded) throw decryptMaterialFailed();
    return decoded;
  }
  const len = fieldBytes(key.curve);
  const { c1, c2, c3 } = parseSm2Ciphertext(ciphertext, encoding, mode, len);
  // B1 (public): C1 on the curve, both coordinates canonical (< p).
  if (!isOnCurve(key.curve, bytesToBigInt(c1.subarray(1, 1 + len)), bytesToBigInt(c1.subarray(1 + len)))) throw decryptMaterialFailed();
  // klen = 0 is refused: t is then the empty string, all-zero by B4's letter, and encryption
  // step A5 (retry while t = 0) could never produce it. Libraries differ (OpenSSL 3.0's
  // pkeyutl, measured, and RustCrypto decrypt it; GmSSL and emmansun/gmsm never make it); no
  // key material is empty. The length is public.
  const klen = c2.length;
  if (klen === 0) throw decryptMaterialFailed();

  const { x2, y2 } = sharedPoint(key, c1, len);
  const result = new Uint8Array(klen);
  const scratch: Uint8Array[] = [x2, ...y2];
  let good = 0;
  try {
    for (const y of y2) {
      const z = new Uint8Array(2 * len);
      z.set(x2, 0);
      z.set(y, len);
      const t = kdf(hash, z, klen); // B4
      const m = new Uint8Array(klen);
      scratch.push(z, t, m);
      for (let i = 0; i < klen; i++) m[i] = c2[i] ^ t[i]; // B5
      const u = createHash(hash).update(x2).update(m).update(y).digest(); // B6
      scratch.push(u);
      const ok = (equalBytes(u, c3) ? 1 : 0) & nonZero(t);
      const mask = -ok & 0xff;
      for (let i = 0; i < klen; i++) result[i] |= m[i] & mask;
      good |= ok;
    }
    const lengthOk = expectedLength === undefined || klen === expectedLength ? 1 : 0;
    return { good: good & lengthOk, out: result }; // B7 (the caller throws or substitutes)
  } finally {
    zeroize(...scratch);
  }
}

function sameCurve(a: Sm2CurveParams, b: Sm2CurveParams): boolean {
  return a === b || (a.p === b.p && a.a === b.a && a.b === b.b && a.gx === b.gx && a.gy === b.gy && a.n === b.n && a.h === b.h);
}

/** Low-level decoder: any supported curve, SM3 or SHA-256, either field order, raw or DER. */
export function sm2Decrypt(key: Sm2PrivateKey, ciphertext: Uint8Array, options: Sm2DecryptOptions = {}): Uint8Array {
  return expectGood(decrypt(key, ciphertext, options));
}

/**
 * The import path: sm2p256v1, SM3, C1C3C2, GM/T 0009 DER or raw (told apart by the public first
 * byte, 30 vs 04). Material of any length other than `expectedLength` is the same error.
 */
export function sm2Unwrap(key: Sm2PrivateKey, ciphertext: Uint8Array, expectedLength: number): Uint8Array {
  return expectGood(sm2UnwrapMasked(key, ciphertext, expectedLength));
}

/** sm2Unwrap with the secret-dependent failure as a mask (a temporary key's implicit rejection). */
export function sm2UnwrapMasked(key: Sm2PrivateKey, ciphertext: Uint8Array, expectedLength: number): MaskedDecode {
  if (!key.ecdh || !isSm2p256v1(key.curve)) throw decryptMaterialFailed();
  return decrypt(key, ciphertext, { hash: 'sm3', mode: 'C1C3C2', encoding: 'auto' }, expectedLength);
}
