/**
 * Branch-free helpers over small integers (bytes and lengths < 2^31). Masks are 0 or 1.
 * JavaScript gives no hard constant-time guarantee, but these avoid data-dependent branches
 * and memory indexing, which is what Marvin-style timing probes measure.
 */
import { zeroize } from '../../bytes.js';
import { decryptMaterialFailed } from '../../errors.js';

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

/**
 * A decoder's result with its failure as a mask instead of a throw: `out` has the expected
 * length either way (meaningless when `good` is 0). The unwrap of a temporary key keeps going
 * on it (withSubstitute); everything else throws the uniform error (expectGood).
 */
export interface MaskedDecode {
  /** 1 when the encoding was valid, else 0. */
  readonly good: number;
  readonly out: Uint8Array;
}

/** The throwing form: the one uniform error, decided once all the work is done. */
export function expectGood(decoded: MaskedDecode): Uint8Array {
  if (decoded.good !== 1) {
    zeroize(decoded.out);
    throw decryptMaterialFailed();
  }
  return decoded.out;
}

/**
 * Implicit rejection (the countermeasure of RFC 5246 §7.4.7.1): where `good` is 0, `out`
 * becomes `substitute` (fresh random bytes of the same length), byte by byte with masks, so
 * the next step runs on a key either way and no branch tells which. The caller must still fail
 * when `good` is 0, after that next step. `substitute` is zeroized.
 */
export function withSubstitute(decoded: MaskedDecode, substitute: Uint8Array): MaskedDecode {
  const { good, out } = decoded;
  if (substitute.length !== out.length) throw new Error('substitute length');
  for (let i = 0; i < out.length; i++) out[i] = ctSelect(good, out[i], substitute[i]);
  zeroize(substitute);
  return decoded;
}
