/**
 * The pure backend unwraps what the real OpenSSL CLI (the seeds' exact commands) and sm-crypto
 * wrap, for every algorithm × wrapping key spec × material spec; and every failure looks alike.
 */
import { createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import smCrypto from 'sm-crypto';
import { allWrappingCombinations, MATERIAL_SPECS, type MaterialSpec, type WrappingAlgorithm, type WrappingKeySpec } from '../src/algorithms/specs.js';
import { sm4GcmDecrypt } from '../src/algorithms/sm4-gcm.js';
import type { WrappingKeyPair } from '../src/backends/crypto-backend.js';
import { createPureBackend, type PureBackend } from '../src/backends/pure/pure-backend.js';
import { ByokError, ERROR_CODES } from '../src/errors.js';
import { opensslPkeyutlEncrypt, opensslWithInput, SEED_PKEYOPTS } from './helpers/openssl-cli.js';

let backend: PureBackend;
const pairs = new Map<WrappingKeySpec, WrappingKeyPair>();

beforeAll(async () => {
  backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
  for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] as const) pairs.set(spec, await backend.generateWrappingKeyPair(spec));
}, 120_000);
afterAll(() => backend.close());

const PROBE = new TextEncoder().encode('the customer owns this material');

/**
 * Unwrap, then prove the handle holds exactly `material`: the backend encrypts a probe with it
 * and we decrypt locally with the customer's plaintext material (node:crypto / SM4-GCM).
 */
async function expectUnwrapsTo(keySpec: WrappingKeySpec, algorithm: WrappingAlgorithm, materialSpec: MaterialSpec, ciphertext: Uint8Array, material: Uint8Array) {
  const handle = await unwrap(keySpec, algorithm, materialSpec, ciphertext);
  try {
    const hash = MATERIAL_SPECS[materialSpec].hmacHash;
    if (hash) {
      // An HMAC key proves itself by its MAC.
      expect(Buffer.from(await backend.generateMac(handle, PROBE))).toEqual(createHmac(hash, material).update(PROBE).digest());
      return;
    }
    const blob = await backend.encrypt(handle, PROBE);
    const [iv, body, tag] = [blob.subarray(0, 12), blob.subarray(12, blob.length - 16), blob.subarray(blob.length - 16)];
    let plain: Uint8Array;
    if (materialSpec === 'SM4_128') plain = sm4GcmDecrypt(material, iv, body, tag);
    else {
      const d = createDecipheriv('aes-256-gcm', material, iv);
      d.setAuthTag(tag);
      plain = Buffer.concat([d.update(body), d.final()]);
    }
    expect(Buffer.from(plain).toString()).toBe(Buffer.from(PROBE).toString());
  } finally {
    await backend.release(handle);
  }
}

function unwrap(keySpec: WrappingKeySpec, algorithm: WrappingAlgorithm, materialSpec: MaterialSpec, ciphertext: Uint8Array) {
  return backend.unwrapMaterial({ keySpec, algorithm, materialSpec, privateKeyBlob: pairs.get(keySpec)!.privateKeyBlob, ciphertext });
}

describe('public keys are the DER SPKI OpenSSL reads', () => {
  it.each(['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] as const)('%s', (spec) => {
    const text = opensslWithInput((f) => ['pkey', '-pubin', '-inform', 'DER', '-in', f, '-text', '-noout'], pairs.get(spec)!.publicKeySpki);
    if (spec === 'SM2') expect(text).toMatch(/ASN1 OID: SM2/);
    else expect(text).toContain(`(${spec.slice(4)} bit)`);
  });
});

describe('OpenSSL CLI wraps, the pure backend unwraps', () => {
  // Every spec that arrives wrapped directly: the symmetric and the HMAC keys.
  const direct = (Object.keys(MATERIAL_SPECS) as MaterialSpec[]).filter((m) => MATERIAL_SPECS[m].kind !== 'private-key');
  const combos = allWrappingCombinations().flatMap((c) => direct.map((m) => ({ ...c, materialSpec: m })));
  it.each(combos)('$algorithm / $keySpec / $materialSpec', async ({ algorithm, keySpec, materialSpec }) => {
    const material = new Uint8Array(randomBytes(MATERIAL_SPECS[materialSpec].length));
    const wrapped = opensslPkeyutlEncrypt(pairs.get(keySpec)!.publicKeySpki, material, SEED_PKEYOPTS[algorithm]);
    await expectUnwrapsTo(keySpec, algorithm, materialSpec, wrapped, material);
    // Material of the other spec's length is refused with the uniform error.
    const other = direct.find((m) => MATERIAL_SPECS[m].length !== MATERIAL_SPECS[materialSpec].length)!;
    await expect(unwrap(keySpec, algorithm, other, wrapped)).rejects.toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED' });
  });
});

describe('sm-crypto wraps (cipherMode 1 = C1C3C2), the pure backend unwraps', () => {
  it('32 and 16 bytes', async () => {
    const spki = pairs.get('SM2')!.publicKeySpki;
    const pubHex = Buffer.from(spki.subarray(spki.length - 65)).toString('hex');
    for (const spec of ['AES_256', 'SM4_128'] as const) {
      const material = new Uint8Array(randomBytes(MATERIAL_SPECS[spec].length));
      const hex = smCrypto.sm2.doEncrypt(Array.from(material), pubHex, 1);
      const ct = new Uint8Array(Buffer.from('04' + hex, 'hex'));
      await expectUnwrapsTo('SM2', 'SM2_ENCRYPT', spec, ct, material);
    }
  });
});

describe('every unwrap failure is the same error', () => {
  const expectUniform = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(ByokError);
    expect((e as ByokError).code).toBe('DECRYPT_MATERIAL_FAILED');
    expect((e as ByokError).message).toBe(ERROR_CODES.DECRYPT_MATERIAL_FAILED.message);
  };

  it.each(['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'] as const)('%s: length, bit flips, too large, wrong material length', async (algorithm) => {
    const pair = pairs.get('RSA_2048')!;
    const good = opensslPkeyutlEncrypt(pair.publicKeySpki, new Uint8Array(randomBytes(32)), SEED_PKEYOPTS[algorithm]);
    const req = (ciphertext: Uint8Array, materialSpec: MaterialSpec = 'AES_256') =>
      backend.unwrapMaterial({ keySpec: 'RSA_2048', algorithm, materialSpec, privateKeyBlob: pair.privateKeyBlob, ciphertext });
    await expectUniform(req(good.subarray(1)));
    await expectUniform(req(new Uint8Array(0)));
    await expectUniform(req(new Uint8Array(256).fill(0xff))); // >= n
    for (const bit of [0, 7, 800, 2047]) {
      const bad = good.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      await expectUniform(req(bad));
    }
    await expectUniform(req(good, 'SM4_128'));
    // Wrapped with another algorithm's padding.
    const otherAlg = algorithm === 'RSAES_PKCS1_V1_5' ? 'RSAES_OAEP_SHA_256' : 'RSAES_PKCS1_V1_5';
    await expectUniform(req(opensslPkeyutlEncrypt(pair.publicKeySpki, new Uint8Array(32), SEED_PKEYOPTS[otherAlg])));
  });

  it('SM2: bit flips in C1, C3, C2, DER framing, off-curve point', async () => {
    const pair = pairs.get('SM2')!;
    const good = opensslPkeyutlEncrypt(pair.publicKeySpki, new Uint8Array(randomBytes(32)), []);
    expect(good[0]).toBe(0x30); // OpenSSL writes GM/T 0009 DER
    const req = (ciphertext: Uint8Array) =>
      backend.unwrapMaterial({ keySpec: 'SM2', algorithm: 'SM2_ENCRYPT', materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob, ciphertext });
    for (let i = 0; i < good.length; i += 7) {
      const bad = good.slice();
      bad[i] ^= 0x01;
      await expectUniform(req(bad));
    }
    await expectUniform(req(good.subarray(0, good.length - 1)));
    await expectUniform(req(new Uint8Array([...good, 0])));
    const raw = new Uint8Array(1 + 64 + 32 + 32);
    raw[0] = 4;
    raw[64] = 1; // (0, 1) is not on the curve
    await expectUniform(req(raw));
  });

  it('the error stack names no material bytes', async () => {
    const pair = pairs.get('RSA_2048')!;
    const material = new Uint8Array(randomBytes(32));
    const wrapped = opensslPkeyutlEncrypt(pair.publicKeySpki, material, SEED_PKEYOPTS.RSAES_OAEP_SHA_256);
    const e = await backend.unwrapMaterial({ keySpec: 'RSA_2048', algorithm: 'RSAES_OAEP_SHA_256', materialSpec: 'SM4_128', privateKeyBlob: pair.privateKeyBlob, ciphertext: wrapped }).catch((x: unknown) => x as ByokError);
    const text = `${(e as Error).stack} ${JSON.stringify(e)}`;
    expect(text).not.toContain(Buffer.from(material).toString('hex'));
    expect(text).not.toContain(Buffer.from(material).toString('base64'));
  });
});
