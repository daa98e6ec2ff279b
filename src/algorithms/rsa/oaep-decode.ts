/**
 * EME-OAEP decoding (RFC 8017 §7.1.2 step 3), branch-free over the whole block.
 *
 * Every check (Y = 0, lHash' = lHash, a 0x01 separator after zero padding, the expected
 * material length) is folded into one mask and the whole DB is scanned every time; the only
 * branch on secret data is the final throw, after all work is done. One error for every failure
 * (Manger's attack needs to tell "Y != 0" from the rest). Used by the pure backend's KAT path and
 * by the PKCS#11 backend's opt-in CKM_RSA_X_509 mode.
 */
import { hash as oneShotHash } from 'node:crypto';
import { decryptMaterialFailed } from '../../errors.js';
import { zeroize } from '../../bytes.js';
import { ctEq, ctGe, ctSelect, expectGood, type MaskedDecode } from './ct.js';
import { hashLength, mgf1XorInto, nodeHashName } from './mgf1.js';

export interface OaepParams {
  /** Label hash, e.g. "sha256" or "SHA-256". */
  readonly hash: string;
  /** MGF1 hash; the KMS uses the same as `hash`. */
  readonly mgf1Hash: string;
  /** Empty for the KMS. */
  readonly label?: Uint8Array;
}

interface Decoded {
  /** 1 when the encoding is valid. */
  good: number;
  /** Index in DB where M starts. */
  msgStart: number;
  db: Uint8Array;
}

/** A hash as the decoder needs it: node's name, its length, and lHash of the empty label (the KMS's). */
interface OaepHash {
  readonly name: string;
  readonly length: number;
  readonly emptyLabelHash: Uint8Array;
}

const oaepHashes = new Map<string, OaepHash>();

/** Remembered per spelling: the import path decodes with one or two hashes, on every request. */
function oaepHash(spelling: string): OaepHash {
  let h = oaepHashes.get(spelling);
  if (!h) {
    const name = nodeHashName(spelling);
    h = { name, length: hashLength(name), emptyLabelHash: oneShotHash(name, new Uint8Array(0), 'buffer') };
    oaepHashes.set(spelling, h);
  }
  return h;
}

function decodeCore(em: Uint8Array, k: number, params: OaepParams): Decoded {
  const hash = oaepHash(params.hash);
  const mgfHash = oaepHash(params.mgf1Hash).name;
  const hLen = hash.length;
  // Public: em must be k bytes and k >= 2hLen + 2 (RFC 8017 §7.1.2 step 1).
  if (em.length !== k || k < 2 * hLen + 2) throw decryptMaterialFailed();
  const lHash = params.label === undefined || params.label.length === 0 ? hash.emptyLabelHash : oneShotHash(hash.name, params.label, 'buffer');
  const maskedDb = em.subarray(1 + hLen);
  const dbLen = k - hLen - 1;

  // seed = maskedSeed ^ MGF(maskedDB), DB = maskedDB ^ MGF(seed), each XORed in place (§7.1.2 step 3b–e).
  const seed = new Uint8Array(em.subarray(1, 1 + hLen));
  mgf1XorInto(mgfHash, maskedDb, seed);
  const db = new Uint8Array(maskedDb);
  mgf1XorInto(mgfHash, seed, db);
  zeroize(seed);

  let good = ctEq(em[0], 0);
  let hashDiff = 0;
  for (let i = 0; i < hLen; i++) hashDiff |= db[i] ^ lHash[i];
  good &= ctEq(hashDiff, 0);

  // Find the first 0x01 after lHash'; every byte before it must be 0x00.
  let looking = 1;
  let separator = 0;
  let badPadding = 0;
  for (let i = hLen; i < dbLen; i++) {
    const isOne = ctEq(db[i], 1);
    const isZero = ctEq(db[i], 0);
    separator = ctSelect(looking & isOne, i, separator);
    badPadding |= looking & ((isOne | isZero) ^ 1);
    looking &= isOne ^ 1;
  }
  good &= (looking ^ 1) & (badPadding ^ 1);
  return { good, msgStart: separator + 1, db };
}

/** Decode a message of any length (the KAT runner's path). */
export function oaepDecode(em: Uint8Array, k: number, params: OaepParams): Uint8Array {
  const { good, msgStart, db } = decodeCore(em, k, params);
  try {
    if (good !== 1) throw decryptMaterialFailed();
    return db.slice(msgStart);
  } finally {
    zeroize(db);
  }
}

/**
 * Decode a message whose length is fixed and public (the import path): a wrong length folds
 * into the same mask as bad padding, and the copy-out position does not depend on the data.
 * The failure is a mask (see MaskedDecode); oaepDecodeExpectLength is the throwing form.
 */
export function oaepDecodeMasked(em: Uint8Array, k: number, params: OaepParams, expectedLength: number): MaskedDecode {
  const { good: paddingGood, msgStart, db } = decodeCore(em, k, params);
  try {
    const good = paddingGood & ctEq(db.length - msgStart, expectedLength) & ctGe(db.length, expectedLength);
    const out = new Uint8Array(expectedLength);
    out.set(db.subarray(Math.max(0, db.length - expectedLength)), expectedLength - Math.min(expectedLength, db.length));
    return { good, out };
  } finally {
    zeroize(db);
  }
}

export function oaepDecodeExpectLength(em: Uint8Array, k: number, params: OaepParams, expectedLength: number): Uint8Array {
  return expectGood(oaepDecodeMasked(em, k, params, expectedLength));
}
