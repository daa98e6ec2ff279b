/**
 * AES key wrap with padding (RFC 5649) through OpenSSL's id-aes{128,192,256}-wrap-pad ciphers.
 * Every unwrap failure (length, integrity check, padding) is the one uniform error.
 *
 * Short keys: Wycheproof marks wrapped keys under 16 bytes ("SmallKey") valid and allows
 * rejecting them. We accept every length RFC 5649 allows (1 byte and up): HMAC keys and the
 * RFC's own 7-byte example are legitimate, and the import engine checks each material's exact
 * length after unwrapping anyway.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { asBuffer, zeroize } from '../bytes.js';
import { ByokError, decryptMaterialFailed } from '../errors.js';

/** RFC 5649 §3: the alternative initial value's constant half, A65959A6. */
const AIV = Buffer.from('a65959a6', 'hex');

function cipherName(kek: Uint8Array): string | undefined {
  switch (kek.length) {
    case 16: return 'id-aes128-wrap-pad';
    case 24: return 'id-aes192-wrap-pad';
    case 32: return 'id-aes256-wrap-pad';
    default: return undefined;
  }
}

export function aesKwpWrap(kek: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const name = cipherName(kek);
  if (!name) throw new ByokError('INVALID_PARAMETER', 'A KWP key must be 16, 24 or 32 bytes.');
  if (plaintext.length === 0) throw new ByokError('INVALID_PARAMETER', 'Nothing to wrap.');
  const cipher = createCipheriv(name, asBuffer(kek), AIV);
  return new Uint8Array(Buffer.concat([cipher.update(asBuffer(plaintext)), cipher.final()]));
}

export function aesKwpUnwrap(kek: Uint8Array, wrapped: Uint8Array): Uint8Array {
  const name = cipherName(kek);
  // RFC 5649 §4.2: at least two 64-bit blocks, a multiple of 8 bytes.
  if (!name || wrapped.length < 16 || wrapped.length % 8 !== 0) throw decryptMaterialFailed();
  let head: Buffer | undefined;
  try {
    const decipher = createDecipheriv(name, asBuffer(kek), AIV);
    head = decipher.update(asBuffer(wrapped));
    const tail = decipher.final();
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    zeroize(tail);
    if (out.length === 0) throw decryptMaterialFailed();
    return out;
  } catch {
    throw decryptMaterialFailed();
  } finally {
    head?.fill(0);
  }
}
