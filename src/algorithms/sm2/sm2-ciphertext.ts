/**
 * SM2 ciphertext encodings (GM/T 0003.4 §7.1 C = C1 ‖ C3 ‖ C2; GM/T 0009 §7.2 SM2Cipher):
 * - DER: SEQUENCE { INTEGER x, INTEGER y, OCTET STRING C3 (32), OCTET STRING C2 } — what
 *   `openssl pkeyutl -encrypt` writes. x and y are minimal INTEGERs (shorter than 32 bytes, or
 *   with a leading 00): left-pad them.
 * - raw: 04 ‖ x ‖ y ‖ C3 ‖ C2 (C1C3C2, the 2012 order) or 04 ‖ x ‖ y ‖ C2 ‖ C3 (C1C2C3, the
 *   2010 draft order, only when asked for).
 * Any malformed input is the one uniform unwrap error.
 */
import * as asn1js from 'asn1js';
import { decryptMaterialFailed } from '../../errors.js';

export const SM2_FIELD_BYTES = 32;
export const SM2_HASH_BYTES = 32;

export interface Sm2Ciphertext {
  /** C1 as 04 ‖ x ‖ y (uncompressed point). */
  readonly c1: Uint8Array;
  readonly c3: Uint8Array;
  readonly c2: Uint8Array;
}

export type Sm2Mode = 'C1C3C2' | 'C1C2C3';
export type Sm2Encoding = 'raw' | 'der';

function leftPad(value: Uint8Array, length: number): Uint8Array {
  // Minimal INTEGER: a leading 00 only when the top bit is set; never negative.
  let v = value;
  if (v.length > 1 && v[0] === 0) {
    if ((v[1] & 0x80) === 0) throw decryptMaterialFailed();
    v = v.subarray(1);
  } else if (v.length > 0 && (v[0] & 0x80) !== 0) {
    throw decryptMaterialFailed();
  }
  if (v.length === 0 || v.length > length) throw decryptMaterialFailed();
  const out = new Uint8Array(length);
  out.set(v, length - v.length);
  return out;
}

export function parseSm2Der(bytes: Uint8Array): Sm2Ciphertext {
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset === -1 || parsed.offset !== bytes.length) throw decryptMaterialFailed();
  const seq = parsed.result;
  // DER only: no indefinite lengths anywhere (BER would be accepted by fromBER).
  if (!(seq instanceof asn1js.Sequence) || seq.lenBlock.isIndefiniteForm) throw decryptMaterialFailed();
  const items = seq.valueBlock.value;
  if (items.length !== 4) throw decryptMaterialFailed();
  const [x, y, c3, c2] = items;
  if (!(x instanceof asn1js.Integer) || !(y instanceof asn1js.Integer)) throw decryptMaterialFailed();
  if (!(c3 instanceof asn1js.OctetString) || !(c2 instanceof asn1js.OctetString)) throw decryptMaterialFailed();
  if (c3.idBlock.isConstructed || c2.idBlock.isConstructed) throw decryptMaterialFailed();
  const c3Bytes = new Uint8Array(c3.valueBlock.valueHexView);
  const c2Bytes = new Uint8Array(c2.valueBlock.valueHexView);
  if (c3Bytes.length !== SM2_HASH_BYTES) throw decryptMaterialFailed();
  // Re-encoding must give the input back: rejects non-minimal lengths and other BER forms.
  if (!equalBytesPublic(new Uint8Array(seq.toBER(false)), bytes)) throw decryptMaterialFailed();
  const c1 = new Uint8Array(1 + 2 * SM2_FIELD_BYTES);
  c1[0] = 0x04;
  c1.set(leftPad(new Uint8Array(x.valueBlock.valueHexView), SM2_FIELD_BYTES), 1);
  c1.set(leftPad(new Uint8Array(y.valueBlock.valueHexView), SM2_FIELD_BYTES), 1 + SM2_FIELD_BYTES);
  return { c1, c3: c3Bytes, c2: c2Bytes };
}

export function parseSm2Raw(bytes: Uint8Array, mode: Sm2Mode): Sm2Ciphertext {
  const c1Len = 1 + 2 * SM2_FIELD_BYTES;
  if (bytes.length < c1Len + SM2_HASH_BYTES || bytes[0] !== 0x04) throw decryptMaterialFailed();
  const c1 = bytes.slice(0, c1Len);
  if (mode === 'C1C3C2') {
    return { c1, c3: bytes.slice(c1Len, c1Len + SM2_HASH_BYTES), c2: bytes.slice(c1Len + SM2_HASH_BYTES) };
  }
  return { c1, c2: bytes.slice(c1Len, bytes.length - SM2_HASH_BYTES), c3: bytes.slice(bytes.length - SM2_HASH_BYTES) };
}

/** Public data only (the ciphertext's own encoding). */
function equalBytesPublic(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Raw starts with 04 (uncompressed C1), DER with 30 (SEQUENCE): a public, unambiguous byte. */
export function parseSm2Ciphertext(bytes: Uint8Array, encoding: Sm2Encoding | 'auto' = 'auto', mode: Sm2Mode = 'C1C3C2'): Sm2Ciphertext {
  const kind = encoding === 'auto' ? (bytes[0] === 0x30 ? 'der' : 'raw') : encoding;
  return kind === 'der' ? parseSm2Der(bytes) : parseSm2Raw(bytes, mode);
}
