/**
 * Branch-free helpers over small integers (bytes and lengths < 2^31). Masks are 0 or 1.
 * JavaScript gives no hard constant-time guarantee, but these avoid data-dependent branches
 * and memory indexing, which is what Marvin-style timing probes measure.
 */

/** 1 if a === b else 0. */
export function ctEq(a: number, b: number): number {
  return (((a ^ b) - 1) >>> 31) & 1;
}

/** 1 if a >= b else 0 (for a, b in [0, 2^30)). */
export function ctGe(a: number, b: number): number {
  return ((a - b) >>> 31) ^ 1;
}

/** mask ? a : b. */
export function ctSelect(mask: number, a: number, b: number): number {
  return (a & -mask) | (b & (mask - 1));
}
