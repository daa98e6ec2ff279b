/**
 * Import tokens: the versioned binary format, sealing-key rotation, tamper evidence bit by bit,
 * the seeds' size pattern for every spec, and the engine's handling of the sealed private key
 * (zeroized once sealed and once used; unwrap cached under the token digest until its expiry).
 */
import { constants, createCipheriv, createDecipheriv, createHash, createHmac, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WrappingKeySpec } from '../src/algorithms/specs.js';
import type { CryptoBackend, UnwrapRequest, WrappingKeyPair } from '../src/backends/crypto-backend.js';
import { createPureBackend } from '../src/backends/pure/pure-backend.js';
import { ManualClock } from '../src/clock.js';
import { ImportEngine } from '../src/engine/import-engine.js';
import { ByokError } from '../src/errors.js';
import { MemoryKeyStore } from '../src/store/memory-store.js';
import { IMPORT_TOKEN_PATTERN, TokenSealer, type ImportTokenClaims } from '../src/token/import-token.js';

const key = (id: string) => ({ id, key: new Uint8Array(randomBytes(32)) });
const claims: ImportTokenClaims = {
  tenant: 'tenant-a', keyId: '0123abcd-0000-4000-8000-00000000beef', algorithm: 'RSAES_OAEP_SHA_256',
  keySpec: 'RSA_2048', materialSpec: 'AES_256', issuedAt: 1_780_000_000, expiresAt: 1_780_086_400,
};

function expectInvalid(fn: () => unknown) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ByokError);
  expect(err).toMatchObject({ code: 'IMPORT_TOKEN_INVALID', message: 'The import token is invalid.' });
}

describe('token format', () => {
  const tk1 = key('tk1');
  const blob = new Uint8Array(randomBytes(300));

  it('round-trips claims and blob; the digest is the token MAC (its last 32 bytes), hex', () => {
    const sealer = new TokenSealer([tk1]);
    const token = sealer.seal(claims, blob);
    const opened = sealer.open(token);
    expect(opened.claims).toMatchObject(claims);
    expect(Buffer.from(opened.privateKeyBlob)).toEqual(Buffer.from(blob));
    expect(opened.digest).toBe(Buffer.from(token, 'base64').subarray(-32).toString('hex'));
    // Two seals of the same input differ (fresh IV), so digests never collide by design.
    expect(sealer.seal(claims, blob)).not.toBe(token);
  });

  it('layout: base64(version 3 ‖ idLen ‖ ID ‖ claimsLen ‖ claims ‖ iv ‖ GCM(blob) ‖ tag) ‖ base64(HMAC-SHA256 of that text); the blob is not visible', () => {
    const tk = key('tk1');
    const text = new TokenSealer([tk]).seal(claims, blob);
    const token = Buffer.from(text, 'base64');
    expect(token[0]).toBe(3);
    expect(token[1]).toBe(3);
    expect(token.subarray(2, 5).toString('ascii')).toBe('tk1');
    expect(token.includes(Buffer.from(blob.subarray(0, 16)))).toBe(false);
    // The keys, derived by hand: HMAC-SHA256(sealing key, label); the MAC key is used as its hex text.
    const derive = (label: string) => createHmac('sha256', tk.key).update(label).digest();
    const macKey = Buffer.from(derive('byok/import-token/v3/mac').toString('hex'), 'latin1');
    const body = text.slice(0, -44);
    expect(body.length % 4).toBe(0);
    expect(text.slice(-44)).toBe(createHmac('sha256', macKey).update(body, 'latin1').digest('base64'));
    // The claims in clear: issuedAt(6) ‖ expiresAt(6) ‖ five len(2)-prefixed strings ‖ padding.
    const claimsLength = token.readUInt16BE(5);
    let off = 7;
    expect(token.readUIntBE(off, 6)).toBe(claims.issuedAt);
    expect(token.readUIntBE(off + 6, 6)).toBe(claims.expiresAt);
    off += 12;
    for (const name of ['tenant', 'keyId', 'algorithm', 'keySpec', 'materialSpec'] as const) {
      const len = token.readUInt16BE(off);
      expect(token.subarray(off + 2, off + 2 + len).toString('utf8')).toBe(claims[name]);
      off += 2 + len;
    }
    off += 2 + token.readUInt16BE(off);
    expect(off).toBe(7 + claimsLength);
    // The blob: AES-256-GCM under the derived key, the body before the IV as AAD.
    const bodyBytes = token.subarray(0, token.length - 32);
    const d = createDecipheriv('aes-256-gcm', derive('byok/import-token/v3/seal'), bodyBytes.subarray(off, off + 12));
    d.setAAD(bodyBytes.subarray(0, off));
    d.setAuthTag(bodyBytes.subarray(bodyBytes.length - 16));
    expect(Buffer.concat([d.update(bodyBytes.subarray(off + 12, bodyBytes.length - 16)), d.final()])).toEqual(Buffer.from(blob));
  });

  it('verify decrypts nothing: a token whose MAC holds but whose sealed blob is garbage opens, and fails only when the blob is read', () => {
    const tk = key('tk1');
    const sealer = new TokenSealer([tk]);
    const text = sealer.seal(claims, blob);
    const bytes = Buffer.from(text, 'base64');
    const body = bytes.subarray(0, bytes.length - 32);
    body[body.length - 20] ^= 1; // inside the GCM ciphertext
    const forgedBody = body.toString('base64');
    const macKey = Buffer.from(createHmac('sha256', tk.key).update('byok/import-token/v3/mac').digest('hex'), 'latin1');
    const forged = forgedBody + createHmac('sha256', macKey).update(forgedBody, 'latin1').digest('base64');
    const opened = sealer.open(forged);
    expect(opened.claims).toMatchObject(claims);
    expectInvalid(() => opened.privateKeyBlob);
    // The same change without the MAC key: refused by open() itself, before any decryption.
    expectInvalid(() => sealer.open(forgedBody + text.slice(-44)));
  });

  it('still opens version 2 tokens (binary claims, all sealed), with their SHA-256 digest', () => {
    const tk = key('tk1');
    const header = Buffer.concat([Buffer.of(2, 3), Buffer.from('tk1')]);
    const strings = ['tenant', 'keyId', 'algorithm', 'keySpec', 'materialSpec'] as const;
    const times = Buffer.alloc(12);
    times.writeUIntBE(claims.issuedAt, 0, 6);
    times.writeUIntBE(claims.expiresAt, 6, 6);
    const plain = Buffer.concat([times, ...strings.flatMap((n) => [Buffer.of(0, claims[n].length), Buffer.from(claims[n])]), Buffer.of(0, 0), blob]);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', tk.key, iv);
    c.setAAD(header);
    const v2 = Buffer.concat([header, iv, c.update(plain), c.final(), c.getAuthTag()]);
    const opened = new TokenSealer([tk]).open(v2.toString('base64'));
    expect(opened.claims).toMatchObject(claims);
    expect(Buffer.from(opened.privateKeyBlob)).toEqual(Buffer.from(blob));
    expect(opened.digest).toBe(createHash('sha256').update(v2).digest('hex'));
    opened.dispose();
    expect(opened.privateKeyBlob.every((x) => x === 0)).toBe(true);
  });

  it('still opens version 1 tokens (JSON claims), sealed before the upgrade', () => {
    const tk = key('tk1');
    // The v1 layout, built independently of the sealer: metaLen(2) ‖ JSON ‖ blob.
    const header = Buffer.concat([Buffer.of(1, 3), Buffer.from('tk1')]);
    const meta = Buffer.from(JSON.stringify({ ...claims, nonce: randomBytes(12).toString('base64') }));
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', tk.key, iv);
    c.setAAD(header);
    const body = Buffer.concat([c.update(Buffer.concat([Buffer.of(meta.length >> 8, meta.length & 0xff), meta, blob])), c.final()]);
    const v1 = Buffer.concat([header, iv, body, c.getAuthTag()]);
    const opened = new TokenSealer([tk]).open(v1.toString('base64'));
    expect(opened.claims).toMatchObject(claims);
    expect(Buffer.from(opened.privateKeyBlob)).toEqual(Buffer.from(blob));
    expect(opened.digest).toBe(createHash('sha256').update(v1).digest('hex'));
    const flipped = Buffer.from(v1);
    flipped[flipped.length - 20] ^= 1;
    expectInvalid(() => new TokenSealer([tk]).open(flipped.toString('base64')));
  });

  it('the opened blob is a view over memory holding only the plaintext, so zeroizing it clears the key', () => {
    const opened = new TokenSealer([tk1]).open(new TokenSealer([tk1]).seal(claims, blob));
    const whole = new Uint8Array(opened.privateKeyBlob.buffer);
    expect(whole.length).toBeLessThan(blob.length + 200);
    opened.dispose();
    expect(Buffer.from(whole).includes(Buffer.from(blob.subarray(0, 16)))).toBe(false);
  });

  it('every flipped bit is IMPORT_TOKEN_INVALID', () => {
    const sealer = new TokenSealer([tk1]);
    const token = Buffer.from(sealer.seal(claims, new Uint8Array(8)), 'base64');
    let checked = 0;
    for (let i = 0; i < token.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const t = Buffer.from(token);
        t[i] ^= 1 << bit;
        expectInvalid(() => sealer.open(t.toString('base64')));
        checked++;
      }
    }
    expect(checked).toBe(token.length * 8);
  });

  it('truncated, extended, non-canonical, wrong version, unknown key ID, outside the pattern: all invalid', () => {
    const sealer = new TokenSealer([tk1]);
    const b64 = sealer.seal(claims, new Uint8Array(8));
    const bytes = Buffer.from(b64, 'base64');
    expectInvalid(() => sealer.open(bytes.subarray(0, bytes.length - 1).toString('base64')));
    expectInvalid(() => sealer.open(Buffer.concat([bytes, Buffer.of(0)]).toString('base64')));
    expectInvalid(() => sealer.open(b64 + '\n'));
    expectInvalid(() => sealer.open(b64.slice(0, 150)));
    expectInvalid(() => sealer.open('A'.repeat(6148)));
    expectInvalid(() => sealer.open(undefined as unknown as string));
    // Non-canonical base64: same bytes, different text. The MAC's 44 characters end in '=' and
    // the one before it has two unused low bits: setting one keeps the bytes, not the text.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const lastAt = b64.length - 2;
    const odd = b64.slice(0, lastAt) + alphabet[alphabet.indexOf(b64[lastAt]) ^ 1] + '=';
    expect(odd).not.toBe(b64);
    expect(Buffer.from(odd, 'base64')).toEqual(Buffer.from(b64, 'base64'));
    expect(sealer.open(b64).claims.keyId).toBe(claims.keyId);
    expectInvalid(() => sealer.open(odd));
    // A character outside latin1 whose low byte is the right one.
    expectInvalid(() => sealer.open(b64.slice(0, -3) + String.fromCharCode(0x100 + b64.charCodeAt(b64.length - 3)) + b64.slice(-2)));
    for (const version of [0, 1, 2, 4, 255]) {
      const other = Buffer.from(bytes);
      other[0] = version;
      expectInvalid(() => sealer.open(other.toString('base64')));
    }
    expectInvalid(() => new TokenSealer([key('tk1')]).open(b64)); // same ID, other key
    expectInvalid(() => new TokenSealer([key('tk9')]).open(b64));
  });

  it('rotation: the current key seals, previous keys still open; a dropped key no longer does', () => {
    const tk2 = key('tk2');
    const old = new TokenSealer([tk1]).seal(claims, blob);
    const rotated = new TokenSealer([tk2, tk1]);
    expect(rotated.open(old).claims.keyId).toBe(claims.keyId);
    const fresh = rotated.seal(claims, blob);
    expect(Buffer.from(fresh, 'base64').subarray(2, 5).toString('ascii')).toBe('tk2');
    expectInvalid(() => new TokenSealer([tk1]).open(fresh));
    expectInvalid(() => new TokenSealer([tk2]).open(old));
  });

  it('refuses bad keyrings: none, wrong length, empty or repeated ID', () => {
    for (const keys of [[], [{ id: 'a', key: new Uint8Array(16) }], [{ id: '', key: new Uint8Array(32) }], [key('a'), key('a')]]) {
      expect(() => new TokenSealer(keys)).toThrow(ByokError);
    }
  });
});

describe('token sizes for every wrapping key spec', () => {
  let backend: CryptoBackend;
  beforeAll(() => {
    backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
  });
  afterAll(() => backend.close());

  // One RSA_4096 generation (~1 s): the largest PKCS#8 the pure backend seals.
  it.each(['SM2', 'RSA_2048', 'RSA_4096'] as WrappingKeySpec[])('%s fits ^[0-9a-zA-Z+/=]{200,6144}$', async (keySpec) => {
    const pair = await backend.generateWrappingKeyPair(keySpec);
    const sealer = new TokenSealer([key('a-long-sealing-key-id-' + 'x'.repeat(40))]);
    const token = sealer.seal({ ...claims, tenant: 't'.repeat(128), keySpec }, pair.privateKeyBlob);
    expect(token).toMatch(IMPORT_TOKEN_PATTERN);
    expect(token.length).toBeLessThanOrEqual(6144);
  });

  it('a tiny blob (a device reference) still makes a token of at least 200 characters', () => {
    expect(new TokenSealer([key('k')]).seal({ ...claims, tenant: 't' }, new Uint8Array(0))).toMatch(IMPORT_TOKEN_PATTERN);
  });
});

describe('the engine and the sealed private key', () => {
  it('zeroizes the private key once sealed and once used; unwrap is cached by token digest until expiry', async () => {
    const pure = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
    const generated: WrappingKeyPair[] = [];
    const requests: UnwrapRequest[] = [];
    // A spy over the real backend: keeps references to the secret buffers the engine was given.
    const spy: CryptoBackend = Object.assign(Object.create(pure) as CryptoBackend, {
      generateWrappingKeyPair: async (spec: WrappingKeySpec) => {
        const pair = await pure.generateWrappingKeyPair(spec);
        generated.push(pair);
        return pair;
      },
      unwrapMaterial: async (req: UnwrapRequest) => {
        const handle = await pure.unwrapMaterial(req);
        requests.push(req);
        return handle;
      },
    });
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const engine = new ImportEngine({ backend: spy, store: new MemoryKeyStore(), clock, tokenSealingKeys: [key('tk1')], commitmentKey: new Uint8Array(randomBytes(32)) });
    try {
      const k = await engine.createKey({ tenant: 't' });
      const params = await engine.getParametersForImport({ tenant: 't', keyId: k.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
      expect(generated).toHaveLength(1);
      expect(generated[0].privateKeyBlob.length).toBeGreaterThan(1000);
      expect(generated[0].privateKeyBlob.every((b) => b === 0)).toBe(true);

      const wrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(params.publicKey, 'base64'), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
      await engine.importKeyMaterial({ tenant: 't', keyId: k.keyId, importToken: params.importToken, encryptedKeyMaterial: new Uint8Array(wrapped) });
      expect(requests).toHaveLength(1);
      expect(requests[0].cacheKey).toBe(Buffer.from(params.importToken, 'base64').subarray(-32).toString('hex'));
      expect(requests[0].cacheUntil).toBe(params.expirationTime * 1000);
      expect(requests[0].privateKeyBlob.length).toBeGreaterThan(1000);
      expect(requests[0].privateKeyBlob.every((b) => b === 0)).toBe(true);
    } finally {
      await engine.close();
      await pure.close();
    }
  });
});
