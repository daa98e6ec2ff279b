/**
 * SM2 curve parameters. sm2p256v1 is GM/T 0003.5 (checked against vectors/sm2/vectors.json
 * `curves` and sm-crypto's source; note Gy ends ...2139F0A0). The decoder takes a curve so the
 * GB/T 32918 *test-curve* vectors run on their own parameters.
 */
export interface Sm2CurveParams {
  readonly name: string;
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
  readonly n: bigint;
  readonly h: bigint;
}

export { SM2_CURVE_OID } from '../asn1/oids.js';

export const SM2P256V1: Sm2CurveParams = {
  name: 'sm2p256v1',
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  h: 1n,
};

/** Curve parameters from a vector file's `curves` block (hex strings). */
export function curveFromHex(name: string, c: { p: string; a: string; b: string; gx: string; gy: string; n: string; h?: number }): Sm2CurveParams {
  const big = (s: string) => BigInt('0x' + s);
  return { name, p: big(c.p), a: big(c.a), b: big(c.b), gx: big(c.gx), gy: big(c.gy), n: big(c.n), h: BigInt(c.h ?? 1) };
}

/** Same parameters as sm2p256v1 (compared by value: a curve read from a vector file counts). */
export function isSm2p256v1(c: Sm2CurveParams): boolean {
  const s = SM2P256V1;
  return c === s || (c.p === s.p && c.a === s.a && c.b === s.b && c.gx === s.gx && c.gy === s.gy && c.n === s.n && c.h === s.h);
}

/** Coordinate length in bytes: ⌈log2 p / 8⌉ (32 for both curves we know). */
export function fieldBytes(c: Sm2CurveParams): number {
  return (c.p.toString(16).length + 1) >> 1;
}

/**
 * Is (x, y) an affine point of the curve, with both coordinates canonical (< p)?
 * Public data only (C1, public keys): plain BigInt arithmetic is fine here.
 */
export function isOnCurve(c: Sm2CurveParams, x: bigint, y: bigint): boolean {
  if (x < 0n || y < 0n || x >= c.p || y >= c.p) return false;
  const rhs = (((x * x) % c.p) * x + c.a * x + c.b) % c.p;
  return (y * y) % c.p === rhs;
}
