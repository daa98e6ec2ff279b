/**
 * Byte helpers. Uint8Array inside the library, Buffer only at Node boundaries.
 */
import { timingSafeEqual } from 'node:crypto';

/** Constant-time equality. Different lengths return false (lengths are public here). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Overwrite secret bytes. Call in `finally`; null/undefined are ignored. */
export function zeroize(...buffers: Array<Uint8Array | null | undefined>): void {
  for (const b of buffers) if (b) b.fill(0);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A Buffer view over the same memory (no copy), for node:crypto calls. */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (standard alphabet, padded). Returns undefined when not canonical base64. */
export function fromBase64Strict(s: string): Uint8Array | undefined {
  if (!BASE64_RE.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function toBase64(u: Uint8Array): string {
  return asBuffer(u).toString('base64');
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new TypeError('invalid hex');
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function toHex(u: Uint8Array): string {
  return asBuffer(u).toString('hex');
}

/** Unsigned big-endian bytes → BigInt (empty is 0). Not constant-time: BigInt never is. */
export function bytesToBigInt(u: Uint8Array): bigint {
  return u.length === 0 ? 0n : BigInt('0x' + toHex(u));
}

/** BigInt ≥ 0 → unsigned big-endian: minimal (at least one byte), or left-padded to `length`. */
export function bigIntToBytes(v: bigint, length?: number): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (length !== undefined) {
    if (hex.length > length * 2) throw new RangeError('value does not fit the length');
    hex = hex.padStart(length * 2, '0');
  }
  return fromHex(hex);
}
