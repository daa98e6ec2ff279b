/**
 * SM2 ciphertext encodings (GM/T 0003.4 §6.1 step A8: C = C1 ‖ C3 ‖ C2; GM/T 0009 §7.2 SM2Cipher):
 * - DER: SEQUENCE { INTEGER x, INTEGER y, OCTET STRING C3 (32), OCTET STRING C2 }, which is what
 *   `openssl pkeyutl -encrypt` writes. x and y are minimal non-negative INTEGERs (a leading 00
 *   when the top bit is set, or shorter than 32 bytes): they are left-padded here.
 * - raw: 04 ‖ x ‖ y ‖ C3 ‖ C2 (C1C3C2, the 2012 order) or 04 ‖ x ‖ y ‖ C2 ‖ C3 (C1C2C3, the
 *   2010 draft order, only when asked for).
 * Everything parsed here is public (the ciphertext's framing), so this code may branch freely;
 * every malformed input is the one uniform unwrap error. Coordinates ≥ p are rejected with the
 * point check in sm2-decrypt.ts, which knows the curve.
 */
import * as asn1js from 'asn1js';
import { concatBytes } from '../../bytes.js';
import { decryptMaterialFailed } from '../../errors.js';
import { decodeDer } from '../asn1/der.js';

/** Coordinate length of both SM2 curves we know (sm2p256v1, the GB/T 32918 test curve). */
export const SM2_FIELD_BYTES = 32;
/** C3 is one SM3 (or, for the non-standard variant, SHA-256) digest. */
export const SM2_HASH_BYTES = 32;

export interface Sm2Ciphertext {
  /** C1 as 04 ‖ x ‖ y (uncompressed point, coordinates left-padded). */
  readonly c1: Uint8Array;
  /** Hash(x2 ‖ M ‖ y2), 32 bytes. */
  readonly c3: Uint8Array;
  /** M ⊕ t, as long as the plaintext. */
  readonly c2: Uint8Array;
}

export type Sm2Mode = 'C1C3C2' | 'C1C2C3';
export type Sm2Encoding = 'raw' | 'der';

/** DER INTEGER contents → fixed-length unsigned big-endian. Rejects negative, non-minimal, too long. */
function integerToFixed(content: Uint8Array, length: number): Uint8Array {
  if (content.length === 0) throw decryptMaterialFailed();
  // X.690 §8.3.2: the first 9 bits are never all 0 or all 1. A negative value is never a coordinate.
  if ((content[0] & 0x80) !== 0) throw decryptMaterialFailed();
  let v = content;
  if (v.length > 1 && v[0] === 0) {
    if ((v[1] & 0x80) === 0) throw decryptMaterialFailed();
    v = v.subarray(1);
  }
  if (v.length > length) throw decryptMaterialFailed();
  const out = new Uint8Array(length);
  out.set(v, length - v.length);
  return out;
}

/** Fixed-length unsigned big-endian → minimal DER INTEGER contents (X.690 §8.3.2). */
function fixedToInteger(value: Uint8Array): Uint8Array {
  let i = 0;
  while (i < value.length - 1 && value[i] === 0) i++;
  const v = value.subarray(i);
  if (v.length === 0) return new Uint8Array(1);
  if ((v[0] & 0x80) === 0) return v.slice();
  const out = new Uint8Array(v.length + 1);
  out.set(v, 1);
  return out;
}

function equalPublic(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One DER TLV with a definite, minimal length (X.690 §10.1, §8.1.3). */
function tlv(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  if (n >= 0x1000000) throw new TypeError('SM2 ciphertext too long');
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + length.length + n);
  out[0] = tag;
  out.set(length, 1);
  out.set(body, 1 + length.length);
  return out;
}

/**
 * GM/T 0009 §7.2 SM2Cipher in DER: minimal INTEGERs, definite minimal lengths. Written out by
 * hand (four TLVs) because it is also the strictness check of every DER unwrap, and asn1js's
 * encoder cost ~50 µs (measured), ~5% of a decrypt, against ~3 µs for this.
 */
export function encodeSm2CiphertextDer(ct: Sm2Ciphertext): Uint8Array {
  const len = (ct.c1.length - 1) >> 1;
  if (ct.c1[0] !== 0x04 || ct.c1.length !== 1 + 2 * len) throw new TypeError('C1 must be an uncompressed point');
  return tlv(0x30, concatBytes(
    tlv(0x02, fixedToInteger(ct.c1.subarray(1, 1 + len))),
    tlv(0x02, fixedToInteger(ct.c1.subarray(1 + len))),
    tlv(0x04, ct.c3),
    tlv(0x04, ct.c2),
  ));
}

/** Raw concatenation: 04 ‖ x ‖ y ‖ C3 ‖ C2 (C1C3C2) or 04 ‖ x ‖ y ‖ C2 ‖ C3 (C1C2C3). */
export function encodeSm2CiphertextRaw(ct: Sm2Ciphertext, mode: Sm2Mode = 'C1C3C2'): Uint8Array {
  const [first, second] = mode === 'C1C3C2' ? [ct.c3, ct.c2] : [ct.c2, ct.c3];
  const out = new Uint8Array(ct.c1.length + first.length + second.length);
  out.set(ct.c1, 0);
  out.set(first, ct.c1.length);
  out.set(second, ct.c1.length + first.length);
  return out;
}

/**
 * Strict DER. asn1js decodes BER (indefinite lengths, long-form short lengths, constructed
 * OCTET STRINGs) and its toBER() keeps those forms, so strictness is checked by building the
 * canonical encoding of what was read and requiring it to be byte-identical to the input: that
 * rejects trailing data, every non-minimal length, non-minimal INTEGERs and wrong tags (e.g.
 * ENUMERATED, which asn1js models as a subclass of Integer) at once.
 */
export function parseSm2Der(bytes: Uint8Array, coordBytes: number = SM2_FIELD_BYTES): Sm2Ciphertext {
  // decodeDer also absorbs asn1js's throws (a malformed GeneralizedTime): the same uniform error.
  const seq = decodeDer(bytes);
  if (!(seq instanceof asn1js.Sequence)) throw decryptMaterialFailed();
  const items = seq.valueBlock.value;
  if (items.length !== 4) throw decryptMaterialFailed();
  const [x, y, c3, c2] = items;
  if (!(x instanceof asn1js.Integer) || !(y instanceof asn1js.Integer)) throw decryptMaterialFailed();
  if (!(c3 instanceof asn1js.OctetString) || !(c2 instanceof asn1js.OctetString)) throw decryptMaterialFailed();
  if (c3.idBlock.isConstructed || c2.idBlock.isConstructed) throw decryptMaterialFailed();
  const c3Bytes = new Uint8Array(c3.valueBlock.valueHexView);
  if (c3Bytes.length !== SM2_HASH_BYTES) throw decryptMaterialFailed();
  const c1 = new Uint8Array(1 + 2 * coordBytes);
  c1[0] = 0x04;
  c1.set(integerToFixed(new Uint8Array(x.valueBlock.valueHexView), coordBytes), 1);
  c1.set(integerToFixed(new Uint8Array(y.valueBlock.valueHexView), coordBytes), 1 + coordBytes);
  const ct: Sm2Ciphertext = { c1, c3: c3Bytes, c2: new Uint8Array(c2.valueBlock.valueHexView) };
  if (!equalPublic(encodeSm2CiphertextDer(ct), bytes)) throw decryptMaterialFailed();
  return ct;
}

export function parseSm2Raw(bytes: Uint8Array, mode: Sm2Mode, coordBytes: number = SM2_FIELD_BYTES): Sm2Ciphertext {
  const c1Len = 1 + 2 * coordBytes;
  // Compressed (02/03) and hybrid (06/07) C1 are allowed by GM/T 0003.1's point encoding, but
  // no wrapping tool writes them; accepting only 04 keeps one parse path. The identity has no
  // 04 encoding.
  if (bytes.length < c1Len + SM2_HASH_BYTES || bytes[0] !== 0x04) throw decryptMaterialFailed();
  const c1 = bytes.slice(0, c1Len);
  if (mode === 'C1C3C2') {
    return { c1, c3: bytes.slice(c1Len, c1Len + SM2_HASH_BYTES), c2: bytes.slice(c1Len + SM2_HASH_BYTES) };
  }
  if (mode === 'C1C2C3') {
    return { c1, c2: bytes.slice(c1Len, bytes.length - SM2_HASH_BYTES), c3: bytes.slice(bytes.length - SM2_HASH_BYTES) };
  }
  throw decryptMaterialFailed();
}

/**
 * `auto`: DER starts with 30 (SEQUENCE), raw with 04 (uncompressed C1); that first byte is
 * public and the two never collide. `mode` applies to raw only: DER has one field order.
 */
export function parseSm2Ciphertext(
  bytes: Uint8Array,
  encoding: Sm2Encoding | 'auto' = 'auto',
  mode: Sm2Mode = 'C1C3C2',
  coordBytes: number = SM2_FIELD_BYTES,
): Sm2Ciphertext {
  const kind = encoding === 'auto' ? (bytes[0] === 0x30 ? 'der' : 'raw') : encoding;
  if (kind === 'der') return parseSm2Der(bytes, coordBytes);
  if (kind === 'raw') return parseSm2Raw(bytes, mode, coordBytes);
  throw decryptMaterialFailed();
}
