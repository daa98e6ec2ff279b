/**
 * Import tokens: stateless, self-verifying, sealed with AES-256-GCM under a token-sealing key
 * that has an ID (so the key can rotate while older tokens stay valid until they expire).
 *
 * Wire format, base64 of:
 *   version(1) ‖ idLen(1) ‖ sealingKeyId ‖ iv(12) ‖ AES-256-GCM(plaintext) ‖ tag(16)
 * with the header (version ‖ idLen ‖ sealingKeyId) as AAD. The plaintext is
 *   version 2 (sealed now): issuedAt(6, big-endian) ‖ expiresAt(6) ‖ for tenant, keyId,
 *     algorithm, keySpec, materialSpec: len(2, big-endian) ‖ UTF-8 ‖ padLen(2) ‖ zeros (so a
 *     token with a tiny blob, a device reference, still has the API's 200 characters) ‖
 *     backend private-key blob;
 *   version 1 (still opened): metaLen(2, big-endian) ‖ UTF-8 JSON {tenant, keyId, algorithm,
 *     keySpec, materialSpec, issuedAt, expiresAt, nonce} ‖ backend private-key blob.
 * Version 2 drops JSON (its parse was a fifth of the open path) and the nonce (the random IV
 * already makes every token unique). Names travel as strings, not table indexes, so a token
 * outlives a reordering of src/algorithms/specs.ts.
 * The blob (for the pure backend the wrapping private key in PKCS#8) exists in clear only inside
 * the engine. Any bit flip fails the tag: IMPORT_TOKEN_INVALID.
 */
import { createCipheriv, createDecipheriv, hash, randomFillSync } from 'node:crypto';
import type { MaterialSpec, WrappingAlgorithm, WrappingKeySpec } from '../algorithms/specs.js';
import { ByokError } from '../errors.js';

const VERSION = 2;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const MIN_TOKEN_CHARS = 200;
const MAX_TOKEN_CHARS = 6144;
/** The seeds' import_token pattern. */
export const IMPORT_TOKEN_PATTERN = /^[0-9a-zA-Z+/=]{200,6144}$/;

/** v2 claims: two 48-bit times, then five length-prefixed strings, then length-prefixed padding. */
const TIME_BYTES = 6;
const CLAIM_STRINGS = ['tenant', 'keyId', 'algorithm', 'keySpec', 'materialSpec'] as const;

export interface TokenSealingKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Uint8Array;
}

export interface ImportTokenClaims {
  readonly tenant: string;
  readonly keyId: string;
  readonly algorithm: WrappingAlgorithm;
  readonly keySpec: WrappingKeySpec;
  readonly materialSpec: MaterialSpec;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export interface OpenedToken {
  readonly claims: ImportTokenClaims;
  /** Secret: zeroize after use. */
  readonly privateKeyBlob: Uint8Array;
  /** SHA-256 of the token bytes, hex: the key for failure counters and parsed-key caches. */
  readonly digest: string;
}

/** IVs drawn from a refilled block of CSPRNG output: one randomFillSync per 256 tokens, not per token. */
class IvSource {
  private readonly block = Buffer.allocUnsafeSlow(IV_LENGTH * 256);
  private offset = this.block.length;

  next(): Buffer {
    if (this.offset === this.block.length) {
      randomFillSync(this.block);
      this.offset = 0;
    }
    // A copy: a view would be overwritten by the next refill while the cipher still holds it.
    const iv = Buffer.from(this.block.subarray(this.offset, this.offset + IV_LENGTH));
    this.offset += IV_LENGTH;
    return iv;
  }
}

function encodeClaims(claims: ImportTokenClaims, headerLength: number, blobLength: number): Buffer[] {
  const times = Buffer.allocUnsafe(2 * TIME_BYTES);
  for (const [i, t] of [claims.issuedAt, claims.expiresAt].entries()) {
    if (!Number.isSafeInteger(t) || t < 0 || t >= 2 ** 48) throw new ByokError('INTERNAL_ERROR', 'Token time out of range.');
    times.writeUIntBE(t, i * TIME_BYTES, TIME_BYTES);
  }
  const parts = [times];
  for (const name of CLAIM_STRINGS) {
    const value = Buffer.from(String(claims[name]), 'utf8');
    if (value.length > 0xffff) throw new ByokError('INTERNAL_ERROR', 'Token claim too long.');
    parts.push(Buffer.of(value.length >> 8, value.length & 0xff), value);
  }
  // 200 base64 characters are 150 bytes.
  let size = headerLength + IV_LENGTH + TAG_LENGTH + blobLength + 2;
  for (const p of parts) size += p.length;
  const pad = Math.max(0, Math.ceil((MIN_TOKEN_CHARS * 3) / 4) - size);
  parts.push(Buffer.of(pad >> 8, pad & 0xff), Buffer.alloc(pad));
  return parts;
}

/** Parse v2 claims; returns the offset where the blob starts. Throws on any malformation. */
function decodeClaims(p: Buffer): { claims: ImportTokenClaims; blobStart: number } {
  let off = 2 * TIME_BYTES;
  if (p.length < off) throw new RangeError('short');
  const issuedAt = p.readUIntBE(0, TIME_BYTES);
  const expiresAt = p.readUIntBE(TIME_BYTES, TIME_BYTES);
  const s: string[] = [];
  for (let i = 0; i <= CLAIM_STRINGS.length; i++) {
    if (off + 2 > p.length) throw new RangeError('short');
    const len = (p[off] << 8) | p[off + 1];
    off += 2;
    if (off + len > p.length) throw new RangeError('short');
    if (i < CLAIM_STRINGS.length) s.push(p.toString('utf8', off, off + len)); // the last one is padding
    off += len;
  }
  return {
    claims: {
      tenant: s[0], keyId: s[1], algorithm: s[2] as WrappingAlgorithm, keySpec: s[3] as WrappingKeySpec,
      materialSpec: s[4] as MaterialSpec, issuedAt, expiresAt,
    },
    blobStart: off,
  };
}

function decodeClaimsV1(p: Buffer): { claims: ImportTokenClaims; blobStart: number } {
  if (p.length < 2) throw new RangeError('short');
  const metaLen = (p[0] << 8) | p[1];
  if (2 + metaLen > p.length) throw new RangeError('short');
  return { claims: checkClaims(JSON.parse(p.toString('utf8', 2, 2 + metaLen))), blobStart: 2 + metaLen };
}

/**
 * The claims as JSON gave them, checked for shape: JSON.parse accepts `null`, numbers and
 * objects missing fields, and the engine would then fail with a TypeError instead of our error.
 */
function checkClaims(value: unknown): ImportTokenClaims {
  const c = value as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new TypeError('claims');
  for (const f of ['tenant', 'keyId', 'algorithm', 'keySpec', 'materialSpec']) if (typeof c[f] !== 'string') throw new TypeError('claims');
  for (const f of ['issuedAt', 'expiresAt']) if (!Number.isSafeInteger(c[f])) throw new TypeError('claims');
  return c as unknown as ImportTokenClaims;
}

/** Current key first, then older keys still accepted for opening. */
export class TokenSealer {
  private readonly byId = new Map<string, Buffer>();
  /** version ‖ idLen ‖ id of the current key: the AAD of every token sealed now. */
  private readonly header: Buffer;
  private readonly currentKey: Buffer;
  private readonly ivs = new IvSource();

  constructor(keys: readonly TokenSealingKey[]) {
    if (keys.length === 0) throw new ByokError('INVALID_PARAMETER', 'A token-sealing key is required.');
    for (const k of keys) {
      const idLen = Buffer.byteLength(k.id);
      if (k.key.length !== 32 || idLen === 0 || idLen > 255) throw new ByokError('INVALID_PARAMETER', 'Bad token-sealing key.');
      // A repeated ID would seal under one key and open under another.
      if (this.byId.has(k.id)) throw new ByokError('INVALID_PARAMETER', `Duplicate token-sealing key ID: ${k.id}`);
      // latin1 keys the map by the ID's bytes, so open() can look it up without a UTF-8 decode.
      this.byId.set(Buffer.from(k.id, 'utf8').toString('latin1'), Buffer.from(k.key.buffer, k.key.byteOffset, k.key.byteLength));
    }
    const id = Buffer.from(keys[0].id, 'utf8');
    this.header = Buffer.concat([Buffer.of(VERSION, id.length), id]);
    this.currentKey = Buffer.from(keys[0].key.buffer, keys[0].key.byteOffset, keys[0].key.byteLength);
  }

  seal(claims: ImportTokenClaims, privateKeyBlob: Uint8Array): string {
    const parts = encodeClaims(claims, this.header.length, privateKeyBlob.length);
    let n = privateKeyBlob.length;
    for (const p of parts) n += p.length;
    // Own memory (not the shared pool), zeroed below: it holds the private key in clear.
    const plaintext = Buffer.allocUnsafeSlow(n);
    let body: Buffer | undefined;
    try {
      let off = 0;
      for (const p of parts) off += p.copy(plaintext, off);
      plaintext.set(privateKeyBlob, off);
      const iv = this.ivs.next();
      const cipher = createCipheriv('aes-256-gcm', this.currentKey, iv);
      cipher.setAAD(this.header);
      body = cipher.update(plaintext);
      cipher.final(); // GCM: no output here
      const token = Buffer.concat([this.header, iv, body, cipher.getAuthTag()]).toString('base64');
      // Base64 text is always in the pattern's alphabet: only the length can fall outside it.
      if (token.length < MIN_TOKEN_CHARS || token.length > MAX_TOKEN_CHARS) throw new ByokError('INTERNAL_ERROR', 'Import token outside the API length.');
      return token;
    } finally {
      plaintext.fill(0);
    }
  }

  /** Authenticity only; the caller checks binding and expiry against the request and clock. */
  open(token: string): OpenedToken {
    const invalid = () => new ByokError('IMPORT_TOKEN_INVALID');
    if (typeof token !== 'string' || token.length < MIN_TOKEN_CHARS || token.length > MAX_TOKEN_CHARS) throw invalid();
    const bytes = Buffer.from(token, 'base64');
    // Canonical base64 only: a token re-encodes to itself. Node's encoder writes only
    // [A-Za-z0-9+/=], so this is also the pattern's alphabet check (the regex cost a fifth of open).
    if (bytes.toString('base64') !== token) throw invalid();
    const version = bytes[0];
    if (version !== VERSION && version !== 1) throw invalid();
    const idEnd = 2 + bytes[1];
    const tagStart = bytes.length - TAG_LENGTH;
    if (tagStart < idEnd + IV_LENGTH + 2) throw invalid();
    const key = this.byId.get(bytes.toString('latin1', 2, idEnd));
    if (!key) throw invalid();
    // update() hands out plaintext before the tag is checked: zero it whatever final() says.
    let plaintext: Buffer | undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(idEnd, idEnd + IV_LENGTH));
      decipher.setAAD(bytes.subarray(0, idEnd));
      decipher.setAuthTag(bytes.subarray(tagStart));
      plaintext = decipher.update(bytes.subarray(idEnd + IV_LENGTH, tagStart));
      if (decipher.final().length !== 0) throw invalid(); // GCM: never output here
    } catch {
      plaintext?.fill(0);
      throw invalid();
    }
    try {
      const { claims, blobStart } = version === VERSION ? decodeClaims(plaintext) : decodeClaimsV1(plaintext);
      // A view, no copy: the caller zeroizes it. Only when update() returned memory of its own:
      // a worker's postMessage clones a view's whole ArrayBuffer, which must hold nothing else.
      if (plaintext.byteOffset !== 0 || plaintext.buffer.byteLength !== plaintext.length) {
        const own = Buffer.allocUnsafeSlow(plaintext.length);
        plaintext.copy(own);
        plaintext.fill(0);
        plaintext = own;
      }
      return { claims, privateKeyBlob: new Uint8Array(plaintext.buffer, plaintext.byteOffset + blobStart, plaintext.length - blobStart), digest: hash('sha256', bytes, 'hex') };
    } catch {
      plaintext.fill(0);
      throw invalid();
    }
  }
}
