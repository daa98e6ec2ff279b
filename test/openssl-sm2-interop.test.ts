/**
 * SM2 interop with the tools a customer wraps with: the real OpenSSL CLI (GM/T 0009 DER) and
 * sm-crypto (raw C1C3C2, hex without the 04 of C1). sm-crypto's doDecrypt and OpenSSL's
 * `pkeyutl -decrypt` serve as independent oracles: on the same ciphertexts, all three must agree,
 * on success and on failure.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import smCrypto from 'sm-crypto';
import {
  encodeSm2CiphertextDer, encodeSm2CiphertextRaw, generateSm2KeyPair, parseSm2Ciphertext, parseSm2PrivateKey,
  sm2Decrypt, sm2PublicKeyFromSpki, sm2Unwrap, type Sm2PrivateKey,
} from '../src/algorithms/sm2/index.js';
import { toHex } from '../src/bytes.js';
import { ByokError, ERROR_CODES } from '../src/errors.js';
import { opensslPkeyutlEncrypt, opensslWithInput } from './helpers/openssl-cli.js';
import { engineUnavailable, SM2_ENGINES } from './helpers/sm2-engines.js';

let pair: { publicKeySpki: Uint8Array; privateKeyPkcs8: Uint8Array };
let pubHex: string; // 04 ‖ x ‖ y, as sm-crypto takes it
let dHex: string;

beforeAll(async () => {
  pair = await generateSm2KeyPair();
  pubHex = toHex(sm2PublicKeyFromSpki(pair.publicKeySpki));
  dHex = toHex(parseSm2PrivateKey(pair.privateKeyPkcs8, 'typescript').d);
});

/** `openssl pkeyutl -decrypt` with our PKCS#8 key; undefined when OpenSSL refuses the ciphertext. */
function opensslDecrypt(privateKeyPkcs8: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'byok-sm2-'));
  try {
    writeFileSync(join(dir, 'priv.der'), privateKeyPkcs8);
    writeFileSync(join(dir, 'c.bin'), ciphertext);
    try {
      execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', 'priv.der', '-keyform', 'DER', '-in', 'c.bin', '-out', 'm.bin'], { cwd: dir, stdio: 'pipe' });
    } catch {
      return undefined;
    }
    return new Uint8Array(readFileSync(join(dir, 'm.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** sm-crypto's decrypt of raw C1C3C2 (it wants hex without the 04; it returns [] on failure). */
function smCryptoDecrypt(raw: Uint8Array, mode: 0 | 1 = 1): Uint8Array {
  expect(raw[0]).toBe(0x04);
  const out = smCrypto.sm2.doDecrypt(toHex(raw.subarray(1)), dHex, mode, { output: 'array' }) as unknown as number[];
  return new Uint8Array(out);
}

function expectUniform(f: () => unknown) {
  let e: unknown;
  try {
    f();
  } catch (x) {
    e = x;
  }
  expect(e).toBeInstanceOf(ByokError);
  expect((e as ByokError).code).toBe('DECRYPT_MATERIAL_FAILED');
  expect((e as ByokError).message).toBe(ERROR_CODES.DECRYPT_MATERIAL_FAILED.message);
}

describe('our SM2 key pair in OpenSSL', () => {
  it('`openssl pkey -pubin -inform DER` reads the SPKI: SM2 curve, the same point', () => {
    const text = opensslWithInput((f) => ['pkey', '-pubin', '-inform', 'DER', '-in', f, '-text', '-noout'], pair.publicKeySpki);
    expect(text).toMatch(/ASN1 OID: SM2/);
    const pub = /pub:\s*([0-9a-f:\s]+)/.exec(text)![1].replace(/[:\s]/g, '');
    expect(pub).toBe(pubHex);
  });

  it('`openssl pkey -inform DER` reads the PKCS#8: the same scalar and point', () => {
    const text = opensslWithInput((f) => ['pkey', '-inform', 'DER', '-in', f, '-text', '-noout'], pair.privateKeyPkcs8);
    expect(text).toMatch(/ASN1 OID: SM2/);
    const priv = /priv:\s*([0-9a-f:\s]+?)\s*pub:/.exec(text)![1].replace(/[:\s]/g, '');
    expect(priv.padStart(64, '0')).toBe(dHex);
  });
});
// The unwraps below run on both SM2 engines: the TypeScript one and the OpenSSL addon.
for (const engine of SM2_ENGINES) describe.skipIf(engineUnavailable(engine))(`${engine} engine`, () => {
  let key: Sm2PrivateKey;
  beforeAll(() => {
    key = parseSm2PrivateKey(pair.privateKeyPkcs8, engine);
  });

  describe('a key pair made by OpenSSL', () => {
    it('`genpkey -algorithm SM2` → PKCS#8: parseSm2PrivateKey reads it and unwraps what OpenSSL encrypts to it', () => {
      const dir = mkdtempSync(join(tmpdir(), 'byok-sm2-'));
      try {
        const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
        run('genpkey', '-algorithm', 'SM2', '-out', 'key.pem');
        run('pkcs8', '-topk8', '-nocrypt', '-in', 'key.pem', '-outform', 'DER', '-out', 'key.p8');
        run('pkey', '-in', 'key.pem', '-pubout', '-outform', 'DER', '-out', 'pub.der');
        const material = new Uint8Array(randomBytes(32));
        const osslKey = parseSm2PrivateKey(new Uint8Array(readFileSync(join(dir, 'key.p8'))), engine);
        const spki = new Uint8Array(readFileSync(join(dir, 'pub.der')));
        expect(toHex(osslKey.ecdh!.getPublicKey())).toBe(toHex(sm2PublicKeyFromSpki(spki)));
        expect(sm2Unwrap(osslKey, opensslPkeyutlEncrypt(spki, material, []), 32)).toEqual(material);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('OpenSSL CLI encrypts (`pkeyutl -encrypt`, no -pkeyopt), we unwrap', () => {
    it.each([32, 16])('%i random bytes, several ciphertexts (DER lengths vary with minimal INTEGERs)', (size) => {
      const lengths = new Set<number>();
      for (let i = 0; i < 6; i++) {
        const material = new Uint8Array(randomBytes(size));
        const ct = opensslPkeyutlEncrypt(pair.publicKeySpki, material, []);
        expect(ct[0]).toBe(0x30); // GM/T 0009 DER, SM3 by default in OpenSSL 3.0
        lengths.add(ct.length);
        expect(sm2Unwrap(key, ct, size)).toEqual(material);
        expectUniform(() => sm2Unwrap(key, ct, size === 32 ? 16 : 32));
        // sm-crypto, as an independent oracle, reads the same ciphertext converted to raw C1C3C2.
        const raw = encodeSm2CiphertextRaw(parseSm2Ciphertext(ct));
        expect(smCryptoDecrypt(raw)).toEqual(material);
        expect(sm2Unwrap(key, raw, size)).toEqual(material);
        // Our DER encoder gives OpenSSL's bytes back.
        expect(encodeSm2CiphertextDer(parseSm2Ciphertext(ct))).toEqual(ct);
      }
      console.log(`OpenSSL SM2 ciphertexts for ${size} bytes: DER lengths ${[...lengths].sort().join(', ')}`);
    });
  });

  describe('sm-crypto encrypts (doEncrypt, cipherMode 1 = C1C3C2, 04 added), we unwrap', () => {
    it.each([32, 16])('%i random bytes; sm-crypto and OpenSSL decrypt the same ciphertexts to the same bytes', (size) => {
      for (let i = 0; i < 4; i++) {
        const material = new Uint8Array(randomBytes(size));
        const hex = smCrypto.sm2.doEncrypt(Array.from(material), pubHex, 1);
        expect(hex).toHaveLength(2 * (64 + 32 + size)); // no 04 prefix
        const raw = new Uint8Array(Buffer.from('04' + hex, 'hex'));
        expect(sm2Unwrap(key, raw, size)).toEqual(material);
        expect(smCryptoDecrypt(raw)).toEqual(material);
        const der = encodeSm2CiphertextDer(parseSm2Ciphertext(raw));
        expect(sm2Unwrap(key, der, size)).toEqual(material);
        expect(opensslDecrypt(pair.privateKeyPkcs8, der)).toEqual(material);
      }
    });

    it('C1C2C3 (cipherMode 0): the low-level decoder reads it when asked; the import path refuses it', () => {
      const material = new Uint8Array(randomBytes(32));
      const raw = new Uint8Array(Buffer.from('04' + smCrypto.sm2.doEncrypt(Array.from(material), pubHex, 0), 'hex'));
      expect(sm2Decrypt(key, raw, { mode: 'C1C2C3' })).toEqual(material);
      expect(smCryptoDecrypt(raw, 0)).toEqual(material);
      expectUniform(() => sm2Unwrap(key, raw, 32));
    });
  });

  describe('all three refuse the same tampered ciphertexts', () => {
    it('a bit flipped in C1, C3 or C2', () => {
      const material = new Uint8Array(randomBytes(32));
      const raw = new Uint8Array(Buffer.from('04' + smCrypto.sm2.doEncrypt(Array.from(material), pubHex, 1), 'hex'));
      for (const [part, index] of [['C1.x', 10], ['C1.y', 60], ['C3', 80], ['C2', 110], ['C2 last', raw.length - 1]] as const) {
        const bad = raw.slice();
        bad[index] ^= 0x10;
        expectUniform(() => sm2Unwrap(key, bad, 32));
        expect(smCryptoDecrypt(bad), part).toHaveLength(0); // sm-crypto's failure is an empty result
        let der: Uint8Array | undefined;
        try {
          der = encodeSm2CiphertextDer(parseSm2Ciphertext(bad));
        } catch {
          der = undefined;
        }
        if (der) expect(opensslDecrypt(pair.privateKeyPkcs8, der), part).toBeUndefined();
      }
    });
  });
});
