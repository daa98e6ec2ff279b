/**
 * Import tokens: stateless, self-verifying, under a token-sealing key that has an ID (so the key
 * can rotate while older tokens stay valid until they expire).
 *
 * Version 3 (sealed now): the claims travel in clear under a MAC, the wrapping private key
 * sealed apart, so a verify authenticates everything without decrypting anything and the key
 * blob is opened only when an unwrap needs it (a worker that has the key parsed never does).
 *   body = version(1)=3 ‖ idLen(1) ‖ sealingKeyId ‖ claimsLen(2) ‖ claims ‖ iv(12) ‖
 *          AES-256-GCM(blob) ‖ tag(16), its length a multiple of 3
 *   token = base64(body) ‖ base64(mac(32)), mac = HMAC-SHA256(macKey, base64(body))
 * so the token text is base64(body ‖ mac), and the MAC covers every character before it (a
 * non-canonical spelling fails it too). claims = issuedAt(6, big-endian) ‖ expiresAt(6) ‖ for
 * tenant, keyId, algorithm, keySpec, materialSpec: len(2) ‖ UTF-8 ‖ padLen(2) ‖ zeros (the
 * padding keeps a token with a tiny blob, a device reference, at the API's 200 characters and
 * the body at a multiple of 3). The GCM's AAD is the body before the IV, so the sealed key is
 * bound to its claims on its own as well. macKey and the GCM key are derived from the sealing
 * key (HMAC-SHA256 of a label each), never the key itself. The token's digest (failure
 * counters, parsed-key caches) is its MAC in hex: no second hash.
 *
 * Still opened (tokens issued before the upgrade, until they expire), whole under AES-256-GCM:
 *   version(1) ‖ idLen(1) ‖ sealingKeyId ‖ iv(12) ‖ AES-256-GCM(plaintext) ‖ tag(16), AAD the
 *   header; version 2 plaintext = the v3 claims ‖ blob; version 1 plaintext = metaLen(2) ‖
 *   UTF-8 JSON claims ‖ blob. Their digest is SHA-256 of the token bytes, hex, as before.
 * Names travel as strings, not table indexes, so a token outlives a reordering of
 * src/algorithms/specs.ts. The blob (for the pure backend the wrapping private key in PKCS#8)
 * exists in clear only inside the engine. Any change to a token is IMPORT_TOKEN_INVALID.
 */
import { createCipheriv, createDecipheriv, createHmac, hash, randomFillSync, timingSafeEqual } from 'node:crypto';
import type { MaterialSpec, WrappingAlgorithm, WrappingKeySpec } from '../algorithms/specs.js';
import { ByokError } from '../errors.js';

const VERSION = 3;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const MAC_LENGTH = 32;
/** base64 of the 32-byte MAC: 44 characters, the last one '='. */
const MAC_CHARS = 44;
const MIN_TOKEN_CHARS = 200;
const MAX_TOKEN_CHARS = 6144;
/** The seeds' import_token pattern. */
export const IMPORT_TOKEN_PATTERN = /^[0-9a-zA-Z+/=]{200,6144}$/;

/** Claims: two 48-bit times, then five length-prefixed strings, then length-prefixed padding. */
const TIME_BYTES = 6;
const CLAIM_STRINGS = ['tenant', 'keyId', 'algorithm', 'keySpec', 'materialSpec'] as const;
/** The base64 prefix decoded first: enough for the header and the claims of every usual token. */
const PREFIX_CHARS = 400;

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
  /**
   * Secret. A version 3 token opens its sealed blob on the first read of this field (so read it
   * only when the key is needed); IMPORT_TOKEN_INVALID if it does not open. Call dispose() after use.
   */
  readonly privateKeyBlob: Uint8Array;
  /** The key for failure counters and parsed-key caches, hex: v3 the token's MAC, older versions SHA-256 of the token bytes. */
  readonly digest: string;
  /** Zeroize the blob if it was opened. */
  dispose(): void;
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

/**
 * HMAC-SHA256 (RFC 2104) of ASCII text with a 64-character ASCII key, as two one-shot hashes:
 * a 64-byte key is exactly SHA-256's block, so the padded keys are K ⊕ ipad and K ⊕ opad, and
 * both stay ASCII for a hex key (so the inner hash can take string concatenation). A new
 * createHmac per call cost more than the hashing (~2.5 µs of ~3 µs per token).
 */
class TextMac {
  private readonly innerPad: string;
  private readonly outer = Buffer.alloc(64 + 32);

  constructor(hexKey: string) {
    if (!/^[0-9a-f]{64}$/.test(hexKey)) throw new ByokError('INTERNAL_ERROR', 'Bad token MAC key.');
    this.innerPad = String.fromCharCode(...Array.from(hexKey, (c) => c.charCodeAt(0) ^ 0x36));
    for (let i = 0; i < 64; i++) this.outer[i] = hexKey.charCodeAt(i) ^ 0x5c;
  }

  /** The MAC of `text` (ASCII only: base64 text). */
  of(text: string): Buffer {
    const inner = hash('sha256', this.innerPad + text, 'buffer');
    inner.copy(this.outer, 64);
    return hash('sha256', this.outer, 'buffer');
  }
}

/** One sealing key: the raw key (opens v1/v2), and its derived v3 GCM and MAC keys. */
interface SealingKeys {
  readonly raw: Buffer;
  readonly seal: Buffer;
  readonly mac: TextMac;
}

function deriveKeys(key: Uint8Array): SealingKeys {
  const raw = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const derive = (label: string) => createHmac('sha256', raw).update(label, 'utf8').digest();
  return { raw, seal: derive('byok/import-token/v3/seal'), mac: new TextMac(derive('byok/import-token/v3/mac').toString('hex')) };
}

/** The claims, padded so that `fixedBytes + claims` is at least the minimum and a multiple of 3. */
function encodeClaims(claims: ImportTokenClaims, fixedBytes: number): Buffer {
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
  let size = fixedBytes + 2;
  for (const p of parts) size += p.length;
  // 200 base64 characters are 150 bytes, the MAC's 32 among them.
  let pad = Math.max(0, Math.ceil((MIN_TOKEN_CHARS * 3) / 4) - MAC_LENGTH - size);
  pad += (3 - ((size + pad) % 3)) % 3;
  parts.push(Buffer.of(pad >> 8, pad & 0xff), Buffer.alloc(pad));
  return Buffer.concat(parts);
}

/** Parse claims; returns the offset where they end. Throws on any malformation. */
function decodeClaims(p: Buffer, start = 0): { claims: ImportTokenClaims; end: number } {
  let off = start + 2 * TIME_BYTES;
  if (p.length < off) throw new RangeError('short');
  const issuedAt = p.readUIntBE(start, TIME_BYTES);
  const expiresAt = p.readUIntBE(start + TIME_BYTES, TIME_BYTES);
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
    end: off,
  };
}

function decodeClaimsV1(p: Buffer): { claims: ImportTokenClaims; end: number } {
  if (p.length < 2) throw new RangeError('short');
  const metaLen = (p[0] << 8) | p[1];
  if (2 + metaLen > p.length) throw new RangeError('short');
  return { claims: checkClaims(JSON.parse(p.toString('utf8', 2, 2 + metaLen))), end: 2 + metaLen };
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

const invalid = () => new ByokError('IMPORT_TOKEN_INVALID');

/** AES-256-GCM open; the plaintext in memory of its own (a worker's postMessage clones a view's whole buffer), zeroed on failure. */
function gcmOpen(key: Buffer, iv: Buffer, aad: Buffer, body: Buffer, tag: Buffer): Buffer {
  // update() hands out plaintext before the tag is checked: zero it whatever final() says.
  let plaintext: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    plaintext = decipher.update(body);
    if (decipher.final().length !== 0) throw invalid(); // GCM: never output here
  } catch {
    plaintext?.fill(0);
    throw invalid();
  }
  if (plaintext.byteOffset !== 0 || plaintext.buffer.byteLength !== plaintext.length) {
    const own = Buffer.allocUnsafeSlow(plaintext.length);
    plaintext.copy(own);
    plaintext.fill(0);
    plaintext = own;
  }
  return plaintext;
}

/** A version 3 token whose MAC verified: the claims now, the sealed blob opened on first use. */
class LazyOpenedToken implements OpenedToken {
  #blob: Uint8Array | undefined;

  constructor(
    readonly claims: ImportTokenClaims,
    readonly digest: string,
    private readonly key: Buffer,
    private readonly token: string,
    /** Bytes of the body before the IV (the GCM's AAD), and the body's length. */
    private readonly aadLength: number,
    private readonly bodyLength: number,
  ) {}

  get privateKeyBlob(): Uint8Array {
    if (this.#blob) return this.#blob;
    const body = Buffer.from(this.token.slice(0, this.token.length - MAC_CHARS), 'base64');
    if (body.length !== this.bodyLength) throw invalid();
    const ivEnd = this.aadLength + IV_LENGTH;
    const plaintext = gcmOpen(this.key, body.subarray(this.aadLength, ivEnd), body.subarray(0, this.aadLength), body.subarray(ivEnd, body.length - TAG_LENGTH), body.subarray(body.length - TAG_LENGTH));
    this.#blob = new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length);
    return this.#blob;
  }

  dispose(): void {
    this.#blob?.fill(0);
  }
}

/** Current key first, then older keys still accepted for opening. */
export class TokenSealer {
  private readonly byId = new Map<string, SealingKeys>();
  /** version ‖ idLen ‖ id of the current key: the start of every token sealed now. */
  private readonly header: Buffer;
  private readonly current: SealingKeys;
  private readonly ivs = new IvSource();

  constructor(keys: readonly TokenSealingKey[]) {
    if (keys.length === 0) throw new ByokError('INVALID_PARAMETER', 'A token-sealing key is required.');
    for (const k of keys) {
      const idLen = Buffer.byteLength(k.id);
      if (k.key.length !== 32 || idLen === 0 || idLen > 255) throw new ByokError('INVALID_PARAMETER', 'Bad token-sealing key.');
      // A repeated ID would seal under one key and open under another.
      if (this.byId.has(k.id)) throw new ByokError('INVALID_PARAMETER', `Duplicate token-sealing key ID: ${k.id}`);
      // latin1 keys the map by the ID's bytes, so open() can look it up without a UTF-8 decode.
      this.byId.set(Buffer.from(k.id, 'utf8').toString('latin1'), deriveKeys(k.key));
    }
    const id = Buffer.from(keys[0].id, 'utf8');
    this.header = Buffer.concat([Buffer.of(VERSION, id.length), id]);
    this.current = this.byId.get(id.toString('latin1'))!;
  }

  seal(claims: ImportTokenClaims, privateKeyBlob: Uint8Array): string {
    const fixed = this.header.length + 2 + IV_LENGTH + privateKeyBlob.length + TAG_LENGTH;
    const encoded = encodeClaims(claims, fixed);
    if (encoded.length > 0xffff) throw new ByokError('INTERNAL_ERROR', 'Token claims too long.');
    const aad = Buffer.concat([this.header, Buffer.of(encoded.length >> 8, encoded.length & 0xff), encoded]);
    const iv = this.ivs.next();
    const cipher = createCipheriv('aes-256-gcm', this.current.seal, iv);
    cipher.setAAD(aad);
    const sealed = cipher.update(privateKeyBlob);
    cipher.final(); // GCM: no output here
    const text = Buffer.concat([aad, iv, sealed, cipher.getAuthTag()]).toString('base64');
    const token = text + this.current.mac.of(text).toString('base64');
    // Base64 text is always in the pattern's alphabet: only the length can fall outside it.
    if (token.length < MIN_TOKEN_CHARS || token.length > MAX_TOKEN_CHARS) throw new ByokError('INTERNAL_ERROR', 'Import token outside the API length.');
    return token;
  }

  /**
   * Authenticity only; the caller checks binding and expiry against the request and clock.
   * A version 3 token is checked by its MAC before anything is decrypted, or even parsed.
   */
  open(token: string): OpenedToken {
    if (typeof token !== 'string' || token.length < MIN_TOKEN_CHARS || token.length > MAX_TOKEN_CHARS) throw invalid();
    const head = Buffer.from(token.slice(0, 4), 'base64');
    if (head[0] === VERSION) return this.openV3(token, head[1]);
    if (head[0] === 2 || head[0] === 1) return this.openSealed(token);
    throw invalid();
  }

  private openV3(token: string, idLen: number): OpenedToken {
    const bodyChars = token.length - MAC_CHARS;
    // The body is a multiple of 3 bytes, so its text has no padding and ends on a 4-character group.
    if (bodyChars % 4 !== 0) throw invalid();
    const prefix = Buffer.from(token.slice(0, Math.min(bodyChars, PREFIX_CHARS)), 'base64');
    const idEnd = 2 + idLen;
    if (prefix.length < idEnd + 2) throw invalid();
    const keys = this.byId.get(prefix.toString('latin1', 2, idEnd));
    if (!keys) throw invalid();
    const body = token.slice(0, bodyChars);
    const mac = keys.mac.of(body);
    // The MAC's text is compared as text: a non-canonical spelling of the same bytes fails too.
    const got = Buffer.from(token.slice(bodyChars), 'utf8'); // utf8: a non-ASCII character never matches
    const want = Buffer.from(mac.toString('base64'), 'latin1');
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw invalid();
    // Authentic from here on: the rest is our own encoding, checked only against our own bugs.
    const claimsLength = prefix.readUInt16BE(idEnd);
    const aadLength = idEnd + 2 + claimsLength;
    const bodyLength = (bodyChars / 4) * 3;
    const bytes = aadLength <= prefix.length ? prefix : Buffer.from(body, 'base64');
    try {
      const { claims, end } = decodeClaims(bytes.subarray(0, aadLength), idEnd + 2);
      if (end !== aadLength || bodyLength < aadLength + IV_LENGTH + TAG_LENGTH) throw new RangeError('layout');
      return new LazyOpenedToken(claims, mac.toString('hex'), keys.seal, token, aadLength, bodyLength);
    } catch {
      throw invalid();
    }
  }

  /** Versions 1 and 2: the whole token under AES-256-GCM. */
  private openSealed(token: string): OpenedToken {
    const bytes = Buffer.from(token, 'base64');
    // Canonical base64 only: a token re-encodes to itself. Node's encoder writes only
    // [A-Za-z0-9+/=], so this is also the pattern's alphabet check.
    if (bytes.toString('base64') !== token) throw invalid();
    const version = bytes[0];
    const idEnd = 2 + bytes[1];
    const tagStart = bytes.length - TAG_LENGTH;
    if (tagStart < idEnd + IV_LENGTH + 2) throw invalid();
    const keys = this.byId.get(bytes.toString('latin1', 2, idEnd));
    if (!keys) throw invalid();
    const plaintext = gcmOpen(keys.raw, bytes.subarray(idEnd, idEnd + IV_LENGTH), bytes.subarray(0, idEnd), bytes.subarray(idEnd + IV_LENGTH, tagStart), bytes.subarray(tagStart));
    try {
      const { claims, end } = version === 2 ? decodeClaims(plaintext) : decodeClaimsV1(plaintext);
      // A view, no copy: dispose() zeroizes the whole plaintext.
      const privateKeyBlob = new Uint8Array(plaintext.buffer, plaintext.byteOffset + end, plaintext.length - end);
      return { claims, privateKeyBlob, digest: hash('sha256', bytes, 'hex'), dispose: () => plaintext.fill(0) };
    } catch {
      plaintext.fill(0);
      throw invalid();
    }
  }
}
