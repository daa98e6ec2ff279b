/**
 * Import tokens: stateless, self-verifying, sealed with AES-256-GCM under a token-sealing key
 * that has an ID (so the key can rotate while older tokens stay valid until they expire).
 *
 * Wire format (version 1), base64 of:
 *   0x01 ‖ idLen(1) ‖ sealingKeyId ‖ iv(12) ‖ AES-256-GCM(plaintext) ‖ tag(16)
 * with the header (version ‖ idLen ‖ sealingKeyId) as AAD, and plaintext
 *   metaLen(2, big-endian) ‖ UTF-8 JSON {tenant, keyId, algorithm, keySpec, materialSpec,
 *   issuedAt, expiresAt, nonce} ‖ backend private-key blob.
 * The blob (for the pure backend the wrapping private key in PKCS#8) exists in clear only inside
 * the engine. Any bit flip fails the tag: IMPORT_TOKEN_INVALID.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { MaterialSpec, WrappingAlgorithm, WrappingKeySpec } from '../algorithms/specs.js';
import { asBuffer, concatBytes, toBase64, zeroize } from '../bytes.js';
import { ByokError } from '../errors.js';

const VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
/** The seeds' import_token pattern. */
export const IMPORT_TOKEN_PATTERN = /^[0-9a-zA-Z+/=]{200,6144}$/;

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

/** Current key first, then older keys still accepted for opening. */
export class TokenSealer {
  private readonly byId = new Map<string, Uint8Array>();

  constructor(private readonly keys: readonly TokenSealingKey[]) {
    if (keys.length === 0) throw new ByokError('INVALID_PARAMETER', 'A token-sealing key is required.');
    for (const k of keys) {
      const idLen = Buffer.byteLength(k.id);
      if (k.key.length !== 32 || idLen === 0 || idLen > 255) throw new ByokError('INVALID_PARAMETER', 'Bad token-sealing key.');
      // A repeated ID would seal under one key and open under another.
      if (this.byId.has(k.id)) throw new ByokError('INVALID_PARAMETER', `Duplicate token-sealing key ID: ${k.id}`);
      this.byId.set(k.id, k.key);
    }
  }

  seal(claims: ImportTokenClaims, privateKeyBlob: Uint8Array): string {
    const current = this.keys[0];
    const id = Buffer.from(current.id, 'utf8');
    const header = concatBytes(Uint8Array.of(VERSION, id.length), id);
    const meta = Buffer.from(JSON.stringify({ ...claims, nonce: randomBytes(12).toString('base64') }), 'utf8');
    const metaLen = Uint8Array.of(meta.length >> 8, meta.length & 0xff);
    const plaintext = concatBytes(metaLen, meta, privateKeyBlob);
    try {
      const iv = randomBytes(IV_LENGTH);
      const cipher = createCipheriv('aes-256-gcm', asBuffer(current.key), iv);
      cipher.setAAD(asBuffer(header));
      const body = Buffer.concat([cipher.update(asBuffer(plaintext)), cipher.final()]);
      const token = toBase64(concatBytes(header, iv, body, cipher.getAuthTag()));
      if (!IMPORT_TOKEN_PATTERN.test(token)) throw new ByokError('INTERNAL_ERROR', 'Import token outside the API length.');
      return token;
    } finally {
      zeroize(plaintext);
    }
  }

  /** Authenticity only; the caller checks binding and expiry against the request and clock. */
  open(token: string): OpenedToken {
    const invalid = () => new ByokError('IMPORT_TOKEN_INVALID');
    if (typeof token !== 'string' || !IMPORT_TOKEN_PATTERN.test(token)) throw invalid();
    const bytes = new Uint8Array(Buffer.from(token, 'base64'));
    // Canonical base64 only: a token re-encodes to itself.
    if (Buffer.from(bytes).toString('base64') !== token) throw invalid();
    if (bytes.length < 2 || bytes[0] !== VERSION) throw invalid();
    const idEnd = 2 + bytes[1];
    if (bytes.length < idEnd + IV_LENGTH + TAG_LENGTH + 2) throw invalid();
    const key = this.byId.get(Buffer.from(bytes.subarray(2, idEnd)).toString('utf8'));
    if (!key) throw invalid();
    let plaintext: Buffer;
    // update() hands out plaintext before the tag is checked: zero it whatever final() says.
    const parts: Buffer[] = [];
    try {
      const decipher = createDecipheriv('aes-256-gcm', asBuffer(key), asBuffer(bytes.subarray(idEnd, idEnd + IV_LENGTH)));
      decipher.setAAD(asBuffer(bytes.subarray(0, idEnd)));
      decipher.setAuthTag(asBuffer(bytes.subarray(bytes.length - TAG_LENGTH)));
      parts.push(decipher.update(asBuffer(bytes.subarray(idEnd + IV_LENGTH, bytes.length - TAG_LENGTH))));
      parts.push(decipher.final());
      plaintext = Buffer.concat(parts);
    } catch {
      throw invalid();
    } finally {
      for (const p of parts) p.fill(0);
    }
    try {
      const metaLen = (plaintext[0] << 8) | plaintext[1];
      const claims = JSON.parse(plaintext.subarray(2, 2 + metaLen).toString('utf8')) as ImportTokenClaims;
      const privateKeyBlob = new Uint8Array(plaintext.subarray(2 + metaLen));
      return { claims, privateKeyBlob, digest: createHash('sha256').update(bytes).digest('hex') };
    } catch {
      throw invalid();
    } finally {
      plaintext.fill(0);
    }
  }
}
