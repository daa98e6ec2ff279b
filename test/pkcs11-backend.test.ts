/**
 * The PKCS#11 backend on a real SoftHSM2 token: the capability matrix it declares, unwraps of
 * OpenSSL-wrapped material, the opt-in host-decode mode, uniform errors, bounded objects, the
 * known-answer vectors through the device, and an OpenSC look at what the device holds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allWrappingCombinations, type MaterialSpec } from '../src/algorithms/specs.js';
import { ManualClock } from '../src/clock.js';
import { ERROR_CODES } from '../src/errors.js';
import { expandVectorPaths, runVectorFile } from '../src/kat/runner.js';
import { describeCkr } from '../src/backends/pkcs11/ckr.js';
import type { Pkcs11Backend } from '../src/backends/pkcs11/index.js';
import { opensslPkeyutlEncrypt, SEED_PKEYOPTS } from './helpers/openssl-cli.js';
import { createSoftHsmToken, type SoftHsmToken } from './helpers/softhsm.js';

const token = createSoftHsmToken('p11');
const skip = 'skip' in token ? token.skip : undefined;
if (skip) console.warn(`SKIPPED PKCS#11 backend tests: ${skip}`);
const t = token as SoftHsmToken;

let backend: Pkcs11Backend;
let hostDecode: Pkcs11Backend;
const clock = new ManualClock(Date.UTC(2026, 10, 23));

beforeAll(async () => {
  if (skip) return;
  const { createPkcs11Backend } = await import('../src/backends/pkcs11/index.js');
  backend = await createPkcs11Backend({ modulePath: t.module, tokenLabel: t.label, pin: t.pin, sessions: 2, clock });
  hostDecode = await createPkcs11Backend({ modulePath: t.module, tokenLabel: t.label, pin: t.pin, sessions: 2, allowHostOaepDecode: true, clock });
});
afterAll(async () => {
  await backend?.close();
  await hostDecode?.close();
});

const pkcs11Tool = (...args: string[]) => execFileSync('pkcs11-tool', ['--module', t.module, '--token-label', t.label, '--login', '--pin', t.pin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function localDecrypt(b: Pkcs11Backend, handle: Awaited<ReturnType<Pkcs11Backend['unwrapMaterial']>>, material: Uint8Array) {
  const blob = await b.encrypt(handle, new TextEncoder().encode('device gcm'));
  const d = createDecipheriv('aes-256-gcm', material, blob.subarray(0, 12));
  d.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]).toString();
}

describe.skipIf(skip !== undefined)('PKCS#11 backend on SoftHSM2', () => {
  it('declares the matrix the device supports (and the opt-in mode widens it)', () => {
    const seen = (b: Pkcs11Backend) => allWrappingCombinations().flatMap(({ algorithm, keySpec }) =>
      (['AES_256', 'SM4_128'] as MaterialSpec[]).filter((m) => b.unsupportedReason({ materialSpec: m, wrapping: { algorithm, keySpec } }) === undefined).map((m) => `${algorithm}/${keySpec}/${m}`));
    const native = seen(backend);
    console.log('pkcs11 default:', native.join(', '));
    expect(native).toEqual(['RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'].flatMap((a) => ['RSA_2048', 'RSA_3072', 'RSA_4096'].map((s) => `${a}/${s}/AES_256`)));
    expect(backend.unsupportedReason({ materialSpec: 'AES_256', wrapping: { algorithm: 'RSAES_OAEP_SHA_256', keySpec: 'RSA_2048' } })).toMatch(/allowHostOaepDecode/);
    expect(backend.unsupportedReason({ materialSpec: 'AES_256', wrapping: { algorithm: 'SM2_ENCRYPT', keySpec: 'SM2' } })).toMatch(/no SM2 mechanism/);
    expect(backend.unsupportedReason({ materialSpec: 'SM4_128', wrapping: { algorithm: 'RSAES_OAEP_SHA_1', keySpec: 'RSA_2048' } })).toMatch(/no SM4/);
    expect(backend.unsupportedReason({ materialSpec: 'SM4_128' })).toMatch(/no SM4/);
    expect(backend.unsupportedReason({ materialSpec: 'HMAC_256' })).toBeUndefined();
    expect(seen(hostDecode)).toContain('RSAES_OAEP_SHA_256/RSA_2048/AES_256');
    expect(backend.verifiesMaterialLength).toBe(false); // SoftHSM2 2.6.1 reads CKA_VALUE_LEN as 0
  });

  it.each([
    ['RSAES_OAEP_SHA_1', 'RSA_2048'], ['RSAES_PKCS1_V1_5', 'RSA_3072'], ['RSAES_OAEP_SHA_1', 'RSA_4096'],
  ] as const)('unwraps %s / %s in the device (OpenSSL CLI wrapped); GCM on the device, decrypted locally', async (algorithm, keySpec) => {
    const pair = await backend.generateWrappingKeyPair(keySpec);
    const material = new Uint8Array(randomBytes(32));
    const ct = opensslPkeyutlEncrypt(pair.publicKeySpki, material, SEED_PKEYOPTS[algorithm]);
    const handle = await backend.unwrapMaterial({ keySpec, algorithm, materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob, ciphertext: ct });
    expect(handle.unwrapPath).toBe('device-unwrap');
    expect(await localDecrypt(backend, handle, material)).toBe('device gcm');
    await backend.release(handle);
  });

  it('RSAES_OAEP_SHA_256: refused by default, decoded in TypeScript in the opt-in mode', async () => {
    const pair = await hostDecode.generateWrappingKeyPair('RSA_2048');
    const material = new Uint8Array(randomBytes(32));
    const ct = opensslPkeyutlEncrypt(pair.publicKeySpki, material, SEED_PKEYOPTS.RSAES_OAEP_SHA_256);
    const req = { keySpec: 'RSA_2048' as const, algorithm: 'RSAES_OAEP_SHA_256' as const, materialSpec: 'AES_256' as const, privateKeyBlob: pair.privateKeyBlob, ciphertext: ct };
    await expect(backend.unwrapMaterial(req)).rejects.toMatchObject({ code: 'ALGORITHM_UNSUPPORTED' });
    const handle = await hostDecode.unwrapMaterial(req);
    expect(handle.unwrapPath).toBe('host-decode');
    expect('lastUnwrapPath' in hostDecode).toBe(false); // the path travels on the handle only
    expect(await localDecrypt(hostDecode, handle, material)).toBe('device gcm');
    await hostDecode.release(handle);
    // The host decoder checks the length (the device path cannot, see the matrix).
    const short = opensslPkeyutlEncrypt(pair.publicKeySpki, new Uint8Array(16), SEED_PKEYOPTS.RSAES_OAEP_SHA_256);
    await expect(hostDecode.unwrapMaterial({ ...req, ciphertext: short })).rejects.toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED' });
  });

  it('every unwrap failure is the one uniform error', async () => {
    const pair = await backend.generateWrappingKeyPair('RSA_2048');
    for (const algorithm of ['RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'] as const) {
      const good = opensslPkeyutlEncrypt(pair.publicKeySpki, new Uint8Array(randomBytes(32)), SEED_PKEYOPTS[algorithm]);
      for (const bad of [good.subarray(1), new Uint8Array(256).fill(0xff), Uint8Array.from(good, (b, i) => (i === 9 ? b ^ 1 : b))]) {
        const e = await backend.unwrapMaterial({ keySpec: 'RSA_2048', algorithm, materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob, ciphertext: bad }).catch((x: unknown) => x);
        expect(e).toMatchObject({ code: 'DECRYPT_MATERIAL_FAILED', message: ERROR_CODES.DECRYPT_MATERIAL_FAILED.message });
      }
    }
  });

  it('wrapping keys are private, sensitive, non-extractable, unwrap-only; no secret is readable (OpenSC)', async () => {
    const pair = await backend.generateWrappingKeyPair('RSA_2048');
    const material = new Uint8Array(randomBytes(32));
    const ct = opensslPkeyutlEncrypt(pair.publicKeySpki, material, SEED_PKEYOPTS.RSAES_OAEP_SHA_1);
    const handle = await backend.unwrapMaterial({ keySpec: 'RSA_2048', algorithm: 'RSAES_OAEP_SHA_1', materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob, ciphertext: ct });
    await backend.persistMaterial(handle, '11111111-2222-3333-4444-555555555555');
    await backend.release(handle);
    const listing = pkcs11Tool('--list-objects');
    const secretKey = listing.split(/\n(?=\S)/).find((o) => o.includes('byok-material/11111111-2222-3333-4444-555555555555'));
    expect(secretKey).toMatch(/Secret Key Object; AES/);
    expect(secretKey).toMatch(/sensitive/);
    expect(secretKey).toMatch(/never extractable|Access:.*sensitive/);
    const id = Buffer.from(pair.privateKeyBlob.subarray(1)).toString('hex');
    const privateKey = listing.split(/\n(?=\S)/).find((o) => o.includes('Private Key Object') && o.includes(`ID:         ${id}`));
    expect(privateKey).toMatch(/Usage:\s+unwrap\s*\n/);
    expect(privateKey).toMatch(/sensitive/);
    const hex = Buffer.from(material).toString('hex');
    expect(listing.toLowerCase()).not.toContain(hex);
    let read = '';
    try {
      read = execFileSync('pkcs11-tool', ['--module', t.module, '--token-label', t.label, '--login', '--pin', t.pin, '--read-object', '--type', 'secrkey', '--label', 'byok-material/11111111-2222-3333-4444-555555555555'], { encoding: 'hex', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch { /* refused, as it must be */ }
    expect(read).not.toContain(hex);
  });

  it('the number of device objects stays bounded: expired wrapping keys are swept', async () => {
    const count = () => (pkcs11Tool('--list-objects', '--type', 'privkey').match(/Private Key Object/g) ?? []).length;
    await backend.sweepExpiredWrappingKeys(true);
    const before = count();
    for (let i = 0; i < 12; i++) await backend.generateWrappingKeyPair('RSA_2048');
    expect(count()).toBe(before + 12);
    clock.advance(26 * 3600_000); // past the wrapping-key lifetime (25 h)
    await backend.generateWrappingKeyPair('RSA_2048');
    expect(count()).toBe(1);
  });

  it('known-answer vectors through the device: zero failures, skips name their reason', async () => {
    const files = expandVectorPaths(['vectors/wycheproof', 'vectors/kwp']).filter((f) => /rsa_|kwp/.test(f));
    const { pkcs11KatOperations } = await import('../src/backends/pkcs11/index.js');
    const kat = await pkcs11KatOperations({ modulePath: t.module, tokenLabel: t.label, pin: t.pin, sessions: 2 });
    expect('kat' in backend).toBe(false); // no test-only surface on the production backend
    let passed = 0;
    for (const file of files) {
      const r = await runVectorFile(file, kat);
      console.log(`${file} [pkcs11]: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
      expect(r.failed, r.cases.filter((c) => c.status === 'failed').map((c) => `${c.id}: ${c.reason}`).join('; ')).toBe(0);
      for (const c of r.cases) if (c.status === 'skipped') expect(c.reason).toBeTruthy();
      passed += r.passed;
    }
    expect(passed).toBeGreaterThan(300);
    await kat.close();
  });
});

describe.skipIf(skip !== undefined)('PKCS#11 errors name their CKR', () => {
  it('names every standard CKR by its constant and hex code, pkcs11js constants first', async () => {
    const { loadPkcs11Js } = await import('../src/backends/pkcs11/pkcs11js.js');
    const lib = await loadPkcs11Js();
    expect(describeCkr(lib, lib.CKR_KEY_TYPE_INCONSISTENT)).toBe('CKR_KEY_TYPE_INCONSISTENT (0x00000063)');
    expect(describeCkr(lib, 160)).toBe('CKR_PIN_INCORRECT (0x000000A0)');
    expect(describeCkr(lib, 0x42)).toBe('CKR_AEAD_DECRYPT_FAILED (0x00000042)'); // v3.0, not in pkcs11js
    expect(describeCkr(lib, 0x80000001)).toBe('CKR_VENDOR_DEFINED+0x1 (0x80000001)');
  });

  it('a device refusal is DEVICE_REFUSED naming the CKR, with the Pkcs11Error as cause', async () => {
    const handle = await backend.generateMaterial('HMAC_256');
    await backend.release(handle);
    const e = await backend.generateMac(handle, new Uint8Array(8)).catch((x: unknown) => x as Error & { code: string });
    expect(e).toMatchObject({ code: 'DEVICE_REFUSED', message: expect.stringMatching(/CKR_(KEY|OBJECT)_HANDLE_INVALID \(0x000000(60|82)\)/) });
    expect((e.cause as { name?: string }).name).toBe('Pkcs11Error');
    expect(e.message).not.toMatch(/\(\d+\)/);
  });

  it('a real device refusal (CKR_TEMPLATE_INCOMPLETE) is DEVICE_REFUSED, a fault DEVICE_UNAVAILABLE; neither says the key is bad', async () => {
    const { loadPkcs11Js } = await import('../src/backends/pkcs11/pkcs11js.js');
    const { ckrOf, fromPkcs11Error, saysKeyIsBad } = await import('../src/backends/pkcs11/ckr.js');
    const lib = await loadPkcs11Js();
    const { p11 } = backend.device;
    const refusal = await backend.device.withSession((s) => {
      try {
        p11.C_CreateObject(s, [{ type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY }, { type: lib.CKA_KEY_TYPE, value: lib.CKK_AES }, { type: lib.CKA_TOKEN, value: false }]);
      } catch (e) {
        return e;
      }
      throw new Error('the device made a key without a value');
    });
    expect(ckrOf(lib, refusal)).toBe(lib.CKR_TEMPLATE_INCOMPLETE);
    expect(saysKeyIsBad(lib, ckrOf(lib, refusal))).toBe(false);
    expect(fromPkcs11Error(lib, refusal, 'Unwrapping a key')).toMatchObject({ code: 'DEVICE_REFUSED', fault: 'server', message: expect.stringMatching(/^Unwrapping a key failed \((C_CreateObject: )?CKR_TEMPLATE_INCOMPLETE \(0x000000D0\)\)\.$/) });
    // pkcs11js throws some CKRs as plain `CKR_NAME:decimal` errors: read too, never a raw error.
    const native = new Error('CKR_ATTRIBUTE_READ_ONLY:16');
    expect(fromPkcs11Error(lib, native, 'Copying')).toMatchObject({ code: 'DEVICE_REFUSED', message: 'Copying failed (CKR_ATTRIBUTE_READ_ONLY (0x00000010)).' });
    expect(fromPkcs11Error(lib, new lib.Pkcs11Error('CKR_SESSION_HANDLE_INVALID', 0xb3, 'C_Sign'), 'Signing')).toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    expect(saysKeyIsBad(lib, lib.CKR_FUNCTION_FAILED)).toBe(true); // SoftHSM2's answer to a blob it cannot parse
  });

  it('byok pkcs11 report prints what the device does, in device / unsupported (why)', () => {
    const r = execFileSync(process.execPath, ['bin/byok.js', 'pkcs11', 'report', '--pkcs11-module', t.module, '--pkcs11-token-label', t.label], {
      encoding: 'utf8', env: { ...process.env, BYOK_PKCS11_PIN: t.pin },
    });
    expect(r).toMatch(/^keyWrapWithPadding: 0x210A$/m);
    expect(r).toMatch(/^RSAES_OAEP_SHA_1 × RSA_2048: in device$/m);
    expect(r).toMatch(/^RSAES_OAEP_SHA_256 × RSA_2048: unsupported \(The device cannot unwrap RSAES_OAEP_SHA_256/m);
    expect(r).toMatch(/^material SM4_128: unsupported \(This PKCS#11 device has no SM4 mechanism\.\)$/m);
  });

  it('a wrong PIN says CKR_PIN_INCORRECT, not a bare decimal; a restart loop then tries no PIN until a good login', () => {
    // A token of its own (a wrong PIN marks it), each run in a process of its own, as restarts are.
    const own = createSoftHsmToken('pin') as SoftHsmToken;
    const run = (pin: string) => spawnSync(process.execPath, ['bin/byok.js', 'kat', '--backend', 'pkcs11', 'vectors/kwp/rfc5649_vectors.json'], {
      encoding: 'utf8', env: { ...process.env, BYOK_PKCS11_MODULE: own.module, BYOK_PKCS11_TOKEN_LABEL: own.label, BYOK_PKCS11_PIN: pin },
    });
    const wrong = run('0000');
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('PKCS#11 token could not be opened (CKR_PIN_INCORRECT (0x000000A0)).');
    // The token now counts a failure (CKF_USER_PIN_COUNT_LOW): the next start does not try a PIN
    // at all, not even the right one, so a loop with a wrong PIN spends one attempt, not all.
    for (const pin of ['0000', own.pin]) {
      const again = run(pin);
      expect(again.status).not.toBe(0);
      expect(again.stderr).toContain('PKCS#11 login not tried: the token reports CKF_USER_PIN_COUNT_LOW');
    }
    // One good login with the token's own tool resets the count; then the service starts.
    execFileSync('pkcs11-tool', ['--module', own.module, '--token-label', own.label, '--login', '--pin', own.pin, '--list-objects'], { stdio: 'pipe' });
    expect(run(own.pin).status).toBe(0);
  });
});

describe.skipIf(skip !== undefined)('byok kat --backend pkcs11', () => {
  it('runs the RSA and KWP vectors on the device and exits 0, naming why it skipped the rest', () => {
    const r = execFileSync(process.execPath, ['bin/byok.js', 'kat', '--backend', 'pkcs11', 'vectors/wycheproof/rsa_pkcs1_2048_test.json', 'vectors/wycheproof/rsa_oaep_2048_sha1_mgf1sha1_test.json', 'vectors/kwp'], {
      encoding: 'utf8', env: { ...process.env, BYOK_PKCS11_MODULE: t.module, BYOK_PKCS11_TOKEN_LABEL: t.label, BYOK_PKCS11_PIN: t.pin },
    });
    expect(r).toMatch(/rsa_pkcs1_2048_test\.json \[RsaesPkcs1Decrypt\]: 67 passed, 0 failed/);
    expect(r).toMatch(/rsa_oaep_2048_sha1_mgf1sha1_test\.json \[RsaesOaepDecrypt\]: 29 passed, 0 failed, 7 skipped\n  skipped 7: device OAEP takes SHA-1 with the same MGF1 hash and an empty label only/);
    expect(r).toMatch(/^total: \d+ passed, 0 failed, 7 skipped$/m);
  });
});
