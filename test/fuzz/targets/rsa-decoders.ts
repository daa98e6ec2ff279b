/**
 * The branch-free EME-OAEP and EME-PKCS1-v1_5 decoders over an encoded block EM, checked
 * against a plain, obviously-correct reference decoder (RFC 8017 §7.1.2 / §7.2.2): same
 * accept/reject, same message. Byte 0 picks decoder, hash and expected length; the rest is EM
 * (k = its length). Byte 0 ≥ 240 instead runs the whole rsaUnwrap (raw RSA + decoder) on the
 * rest as a ciphertext under the fixed key.
 */
import { createHash } from 'node:crypto';
import { oaepDecode, oaepDecodeExpectLength } from '../../../src/algorithms/rsa/oaep-decode.js';
import { pkcs1v15Decode, pkcs1v15DecodeExpectLength } from '../../../src/algorithms/rsa/pkcs1v15-decode.js';
import { mgf1 } from '../../../src/algorithms/rsa/mgf1.js';
import { rsaUnwrap } from '../../../src/algorithms/rsa/rsa-unwrap.js';
import { check, onlyByokError } from '../expect.js';
import { rsaKey } from '../fixtures.js';

export const maxLen = 520;
const key = rsaKey();
const HASHES = ['sha1', 'sha256'] as const;
const LENGTHS = [16, 32];

/** Reference PKCS#1 v1.5 decode (branches freely): the message or undefined. */
function refPkcs1(em: Uint8Array): Uint8Array | undefined {
  if (em.length < 11 || em[0] !== 0 || em[1] !== 2) return undefined;
  const sep = em.indexOf(0, 2);
  if (sep < 0 || sep - 2 < 8) return undefined;
  return em.slice(sep + 1);
}

/** Reference OAEP decode (empty label). */
function refOaep(em: Uint8Array, hash: string): Uint8Array | undefined {
  const hLen = createHash(hash).digest().length;
  const k = em.length;
  if (k < 2 * hLen + 2) return undefined;
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seedMask = mgf1(hash, maskedDb, hLen);
  const seed = maskedSeed.map((b, i) => b ^ seedMask[i]);
  const dbMask = mgf1(hash, seed, k - hLen - 1);
  const db = maskedDb.map((b, i) => b ^ dbMask[i]);
  if (em[0] !== 0) return undefined;
  if (!Buffer.from(db.subarray(0, hLen)).equals(createHash(hash).digest())) return undefined;
  let i = hLen;
  while (i < db.length && db[i] === 0) i++;
  if (i >= db.length || db[i] !== 1) return undefined;
  return db.slice(i + 1);
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const em = new Uint8Array(data.subarray(1));
  const sel = data[0];
  const expected = LENGTHS[(sel >> 2) & 1];
  if (sel >= 240) {
    const padding = [{ kind: 'pkcs1v15' as const }, { kind: 'oaep' as const, hash: 'sha256' as const }, { kind: 'oaep' as const, hash: 'sha1' as const }][sel % 3];
    const out = onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => rsaUnwrap(key, padding, em, expected));
    if (out) check(out.length === expected, 'rsaUnwrap returned material of the wrong length');
    return;
  }
  const hash = HASHES[(sel >> 3) & 1];
  switch (sel & 3) {
    case 0: {
      const got = onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => pkcs1v15Decode(em, em.length));
      check(same(got, em.length >= 11 ? refPkcs1(em) : undefined), 'pkcs1v15Decode disagrees with the reference');
      return;
    }
    case 1: {
      const got = onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => pkcs1v15DecodeExpectLength(em, em.length, expected));
      const ref = refPkcs1(em);
      check(same(got, ref?.length === expected ? ref : undefined), 'pkcs1v15DecodeExpectLength disagrees with the reference');
      return;
    }
    case 2: {
      const got = onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => oaepDecode(em, em.length, { hash, mgf1Hash: hash }));
      check(same(got, refOaep(em, hash)), 'oaepDecode disagrees with the reference');
      return;
    }
    default: {
      const got = onlyByokError(['DECRYPT_MATERIAL_FAILED'], () => oaepDecodeExpectLength(em, em.length, { hash, mgf1Hash: hash }, expected));
      const ref = refOaep(em, hash);
      check(same(got, ref?.length === expected ? ref : undefined), 'oaepDecodeExpectLength disagrees with the reference');
    }
  }
}
