/**
 * CK_ULONG attribute values (CKA_VALUE_LEN, CKA_CLASS, …) as pkcs11js returns them: the raw bytes
 * of the platform's `unsigned long` — 8 bytes on LP64 (Linux, macOS), 4 on LLP64 (Windows) — in
 * the host's byte order. The length of the buffer says which.
 */
import { endianness } from 'node:os';
import { ByokError } from '../../errors.js';

const LITTLE = endianness() === 'LE';

/** The CK_ULONG in `value` (4 or 8 bytes); values above 2^53 are refused, not rounded. */
export function readCkUlong(value: Uint8Array): number {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (value.length === 4) return view.getUint32(0, LITTLE);
  if (value.length === 8) {
    const n = view.getBigUint64(0, LITTLE);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ByokError('INTERNAL_ERROR', 'A CK_ULONG attribute value is out of range.');
    return Number(n);
  }
  throw new ByokError('INTERNAL_ERROR', `A CK_ULONG attribute value has ${value.length} bytes (expected 4 or 8).`);
}
