/**
 * A reference SM2 encryptor (GM/T 0003.4 §6.1 A1–A8) for tests only: noble points and node's
 * hashes, with k given, so that edge cases (t = 0, chosen C1) can be built. test/sm2-decrypt.test.ts
 * checks it against every fixed-k published vector, byte for byte.
 */
import { createHash } from 'node:crypto';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import type { Sm2Ciphertext, Sm2CurveParams, Sm2Hash } from '../../src/algorithms/sm2/index.js';
import { fromHex, toHex } from '../../src/bytes.js';

const points = new Map<Sm2CurveParams, ReturnType<typeof weierstrass<bigint>>>();
export function Point(curve: Sm2CurveParams) {
  if (!points.has(curve)) points.set(curve, weierstrass<bigint>({ p: curve.p, n: curve.n, h: curve.h, a: curve.a, b: curve.b, Gx: curve.gx, Gy: curve.gy }));
  return points.get(curve)!;
}
export const be32 = (v: bigint) => fromHex(v.toString(16).padStart(64, '0'));
export const big = (b: Uint8Array) => BigInt('0x' + toHex(b));

export function refKdf(hash: Sm2Hash, z: Uint8Array, klen: number): Uint8Array {
  const out = new Uint8Array(klen);
  for (let ct = 1, off = 0; off < klen; ct++, off += 32) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(ct);
    out.set(createHash(hash).update(z).update(counter).digest().subarray(0, Math.min(32, klen - off)), off);
  }
  return out;
}

/** C = (C1, C3, C2) for a given C1 and shared point S = (x2, y2); no A5 retry (tests need t = 0). */
export function assemble(c1: Uint8Array, x2: bigint, y2: bigint, msg: Uint8Array, hash: Sm2Hash = 'sm3'): Sm2Ciphertext {
  const [x, y] = [be32(x2), be32(y2)];
  const t = refKdf(hash, Buffer.concat([x, y]), msg.length);
  const c2 = msg.map((m, i) => m ^ t[i]);
  const c3 = new Uint8Array(createHash(hash).update(x).update(msg).update(y).digest());
  return { c1, c3, c2 };
}

export function refEncrypt(curve: Sm2CurveParams, publicKey: Uint8Array, msg: Uint8Array, k: bigint, hash: Sm2Hash = 'sm3'): Sm2Ciphertext {
  const P = Point(curve);
  const s = P.fromBytes(publicKey).multiply(k).toAffine();
  return assemble(P.BASE.multiply(k).toBytes(false), s.x, s.y, msg, hash);
}

export function publicOf(curve: Sm2CurveParams, d: Uint8Array): Uint8Array {
  return Point(curve).BASE.multiply(big(d)).toBytes(false);
}
