/**
 * SM4-GCM (RFC 8998 §3.1; NIST SP 800-38D with the SM4 block cipher). The engine always uses
 * 96-bit IVs; other IV lengths are supported so the Wycheproof file runs whole.
 *
 * OpenSSL 3.0 (and so Node 20) has SM4-ECB and SM4-CTR but no SM4-GCM, so GCM is composed from
 * those two and @noble/ciphers' GHASH (audited), not written by hand. Checked against
 * Wycheproof's sm4_gcm_test.json.
 */
import { createCipheriv } from 'node:crypto';
import { ghash } from '@noble/ciphers/_polyval.js';
import { ByokError } from '../errors.js';
import { asBuffer, equalBytes, zeroize } from '../bytes.js';

export const SM4_GCM_IV_LENGTH = 12;
export const SM4_GCM_TAG_LENGTH = 16;
/** SP 800-38D §5.2.1.1: at most 2^32 - 2 blocks of plaintext. */
const MAX_PLAINTEXT = (2 ** 32 - 2) * 16;
// 16 bytes would mean GCM's 128-bit tag; shorter tags are not offered.

function sm4EncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('sm4-ecb', asBuffer(key), null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(asBuffer(block)), c.final()]));
}

/** GCTR from inc32(J0) (SP 800-38D §6.5): the counter blocks are built here with a 32-bit
 * increment and encrypted in one SM4-ECB call (Node's sm4-ctr would carry into the upper 96 bits). */
function gctr(key: Uint8Array, j0: Uint8Array, data: Uint8Array): Uint8Array {
  const blocks = Math.ceil(data.length / 16);
  const counters = new Uint8Array(blocks * 16);
  const view = new DataView(counters.buffer);
  const low = new DataView(j0.buffer, j0.byteOffset, 16).getUint32(12);
  for (let i = 0; i < blocks; i++) {
    counters.set(j0.subarray(0, 12), i * 16);
    view.setUint32(i * 16 + 12, (low + 1 + i) >>> 0);
  }
  const stream = sm4EncryptBlock(key, counters);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ stream[i];
  zeroize(stream);
  return out;
}

function tagFor(key: Uint8Array, j0: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const h = sm4EncryptBlock(key, new Uint8Array(16));
  const lengths = new Uint8Array(16);
  const view = new DataView(lengths.buffer);
  view.setBigUint64(0, BigInt(aad.length) * 8n);
  view.setBigUint64(8, BigInt(ciphertext.length) * 8n);
  // Each update pads its input to a block boundary, as GHASH(A ‖ 0* ‖ C ‖ 0* ‖ len) requires.
  const s = ghash.create(h).update(aad).update(ciphertext).update(lengths).digest();
  const ek = sm4EncryptBlock(key, j0);
  for (let i = 0; i < 16; i++) s[i] ^= ek[i];
  zeroize(h, ek);
  return s;
}

/** J0 (SP 800-38D §7.1 step 2): IV ‖ 0^31 ‖ 1 for 96-bit IVs, else GHASH(IV ‖ 0* ‖ [len(IV)]64). */
function j0For(key: Uint8Array, iv: Uint8Array): Uint8Array {
  if (iv.length === SM4_GCM_IV_LENGTH) {
    const j0 = new Uint8Array(16);
    j0.set(iv);
    j0[15] = 1;
    return j0;
  }
  const h = sm4EncryptBlock(key, new Uint8Array(16));
  const lengths = new Uint8Array(16);
  new DataView(lengths.buffer).setBigUint64(8, BigInt(iv.length) * 8n);
  const j0 = ghash.create(h).update(iv).update(lengths).digest();
  zeroize(h);
  return j0;
}

export function sm4GcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array(0)): { ciphertext: Uint8Array; tag: Uint8Array } {
  if (key.length !== 16) throw new ByokError('INVALID_PARAMETER', 'SM4 needs a 16-byte key.');
  if (plaintext.length > MAX_PLAINTEXT) throw new ByokError('INVALID_PARAMETER', 'Plaintext too long for SM4-GCM.');
  if (iv.length === 0) throw new ByokError('INVALID_PARAMETER', 'SM4-GCM needs a non-empty IV.');
  const j0 = j0For(key, iv);
  const ciphertext = gctr(key, j0, plaintext);
  return { ciphertext, tag: tagFor(key, j0, aad, ciphertext) };
}

/** Throws CIPHERTEXT_INVALID on a wrong tag; the plaintext is computed only after the tag checks. */
export function sm4GcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (key.length !== 16 || iv.length === 0 || tag.length !== SM4_GCM_TAG_LENGTH || ciphertext.length > MAX_PLAINTEXT) {
    throw new ByokError('CIPHERTEXT_INVALID');
  }
  const j0 = j0For(key, iv);
  const expected = tagFor(key, j0, aad, ciphertext);
  const ok = equalBytes(expected, tag);
  zeroize(expected);
  if (!ok) throw new ByokError('CIPHERTEXT_INVALID');
  return gctr(key, j0, ciphertext);
}
