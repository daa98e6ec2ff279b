/**
 * The PIN holder with a grudge (issue 15, defect 2), on every device: material is imported as a
 * customer would (wrapped by the OpenSSL CLI), the used `encrypted_key_material` is captured, and
 * a second process opens the token with its own pkcs11js handle and the user PIN, finds every
 * private key (the wrapping key too, if it still exists) and tries to recover the material:
 * unwrap into an extractable object, decrypt directly, switch the attributes afterwards, and for
 * an envelope the two-step unwrap through a temporary key. None may read the material.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKwpWrap } from '../../src/algorithms/aes-kwp.js';
import type { MaterialSpec } from '../../src/algorithms/specs.js';
import { createPkcs11Backend, type Pkcs11Backend } from '../../src/backends/pkcs11/index.js';
import { ImportEngine } from '../../src/engine/import-engine.js';
import { MemoryKeyStore } from '../../src/store/memory-store.js';
import { DEVICES, deviceOptions, type DeviceToken } from '../helpers/devices.js';
import { opensslPkeyutlEncrypt } from '../helpers/openssl-cli.js';

const PIN_HOLDER = join(dirname(fileURLToPath(import.meta.url)), 'pin-holder.mjs');
const TENANT = 'tenant-a';

type Padding = 'oaep-sha1' | 'oaep-sha256';
interface Captured { readonly name: string; readonly padding: Padding; readonly ciphertext: string; readonly envelope?: boolean; readonly material: Uint8Array }
interface Attempt { readonly name: string; readonly how: string; readonly outcome: string; readonly value?: string }

function pinHolder(token: DeviceToken, captured: readonly Captured[]): { privateKeys: number; attempts: Attempt[] } {
  const input = { module: token.module, libraryParameters: token.libraryParameters, label: token.label, pin: token.pin, ciphertexts: captured.map(({ material, ...c }) => ({ ...c, length: material.length })) };
  return JSON.parse(execFileSync(process.execPath, [PIN_HOLDER, JSON.stringify(input)], { encoding: 'utf8', timeout: 60_000 })) as { privateKeys: number; attempts: Attempt[] };
}

/** The first algorithm the backend can import `spec` with, or undefined. */
function firstSupported(backend: Pkcs11Backend, spec: MaterialSpec, algorithms: readonly string[]): string | undefined {
  return algorithms.find((a) => backend.unsupportedReason({ materialSpec: spec, wrapping: { algorithm: a as never, keySpec: 'RSA_2048' } }) === undefined);
}

const OAEP_OPTS = (padding: Padding) => ['rsa_padding_mode:oaep', `rsa_oaep_md:${padding.slice(5)}`, `rsa_mgf1_md:${padding.slice(5)}`];

/** What the PIN holder read of the material (attempts whose value contains it), and a report for messages. */
function attack(token: DeviceToken, captured: Captured): { leaks: Attempt[]; attempts: Attempt[]; report: string } {
  const { privateKeys, attempts } = pinHolder(token, [captured]);
  const hex = Buffer.from(captured.material).toString('hex');
  const leaks = attempts.filter((a) => a.value !== undefined && a.value.includes(hex));
  return { leaks, attempts, report: `${privateKeys} private keys on the token; attempts:\n${attempts.map((a) => `${a.how} → ${a.outcome}`).join('\n')}` };
}

function expectSealed(token: DeviceToken, captured: Captured): void {
  const { leaks, report } = attack(token, captured);
  expect(leaks, report).toEqual([]);
}

for (const device of DEVICES) describe.skipIf(device.unavailable() !== undefined)(`a PIN holder cannot recover imported material (${device.name})`, () => {
  let token: DeviceToken;
  let backend: Pkcs11Backend;
  let engine: ImportEngine;

  beforeAll(async () => {
    token = device.token('pin-holder');
    backend = await createPkcs11Backend(deviceOptions(token, { sessions: 2 }));
    engine = new ImportEngine({
      backend, store: new MemoryKeyStore(),
      tokenSealingKeys: [{ id: 'tk1', key: new Uint8Array(randomBytes(32)) }], commitmentKey: new Uint8Array(randomBytes(32)),
    });
  });
  afterAll(async () => {
    await engine?.close();
    await backend?.close();
  });

  /** Import `material` of `spec` wrapped by `wrap`; returns the used ciphertext (base64). */
  async function importUsed(spec: MaterialSpec, algorithm: string, wrap: (publicKey: Buffer) => Uint8Array): Promise<string> {
    const key = await engine.createKey({ tenant: TENANT, materialSpec: spec });
    const params = await engine.getParametersForImport({ tenant: TENANT, keyId: key.keyId, wrappingAlgorithm: algorithm });
    const ciphertext = Buffer.from(wrap(Buffer.from(params.publicKey, 'base64'))).toString('base64');
    await engine.importKeyMaterial({ tenant: TENANT, keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial: ciphertext });
    return ciphertext;
  }

  /** AES-256 where the device holds it, else an HMAC key; SHA-256 OAEP where it does it, else SHA-1. */
  function plainPlan(): { spec: MaterialSpec; algorithm: string; padding: Padding } | undefined {
    const oaep = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'];
    const spec = (['AES_256', 'HMAC_256'] as const).find((s) => firstSupported(backend, s, oaep));
    if (spec === undefined) return undefined;
    const algorithm = firstSupported(backend, spec, oaep)!;
    return { spec, algorithm, padding: algorithm.endsWith('256') ? 'oaep-sha256' : 'oaep-sha1' };
  }

  it('a used RSAES-OAEP ciphertext stays sealed: unwrap into an extractable object, decrypt, or flip the attributes after', async () => {
    const plan = plainPlan();
    if (plan === undefined) {
      // Declared, not failed: the device cannot import either, and says why.
      expect(backend.unsupportedReason({ materialSpec: 'HMAC_256', wrapping: { algorithm: 'RSAES_OAEP_SHA_256', keySpec: 'RSA_2048' } })).toMatch(/\S/);
    } else {
      const { spec, algorithm, padding } = plan;
      const material = new Uint8Array(randomBytes(32));
      const ciphertext = await importUsed(spec, algorithm, (pub) => opensslPkeyutlEncrypt(pub, material, OAEP_OPTS(padding)));
      expectSealed(token, { name: `${spec} / ${algorithm}`, padding, ciphertext, material });
    }
  });

  // opencryptoki 3.8: the PIN holder's own C_UnwrapKey answers CKR_FUNCTION_FAILED for every
  // template tried, so the attack this test shows elsewhere cannot be shown there (not analysed further).
  it.skipIf(device.id === 'opencryptoki')(device.unwrapTemplate === 'enforced'
    ? 'a ciphertext captured before its import stays sealed while its wrapping key exists: the device enforces CKA_UNWRAP_TEMPLATE'
    : `a ciphertext captured before its import is open to a PIN holder: CKA_UNWRAP_TEMPLATE is ${device.unwrapTemplate} here (so the device starts only with --pkcs11-unwrap-template best-effort)`, async () => {
    const plan = plainPlan();
    if (plan === undefined) {
      expect(backend.unsupportedReason({ materialSpec: 'HMAC_256', wrapping: { algorithm: 'RSAES_OAEP_SHA_256', keySpec: 'RSA_2048' } })).toMatch(/\S/);
    } else {
      const { spec, algorithm, padding } = plan;
      const key = await engine.createKey({ tenant: TENANT, materialSpec: spec });
      const params = await engine.getParametersForImport({ tenant: TENANT, keyId: key.keyId, wrappingAlgorithm: algorithm });
      const material = new Uint8Array(randomBytes(32));
      const ciphertext = Buffer.from(opensslPkeyutlEncrypt(Buffer.from(params.publicKey, 'base64'), material, OAEP_OPTS(padding))).toString('base64');
      const { leaks, attempts, report } = attack(token, { name: `${spec} / ${algorithm}, not yet imported`, padding, ciphertext, material });
      // The wrapping key is there to try: the attempts reached the device.
      expect(attempts.some((a) => a.how.startsWith('C_UnwrapKey into an extractable')), report).toBe(true);
      if (backend.unwrapTemplate.state === 'enforced') expect(leaks, report).toEqual([]);
      else expect(leaks.length, report).toBeGreaterThan(0);
      expect(backend.unwrapTemplate.state).toBe(device.unwrapTemplate);
    }
  });

  it('a used envelope ciphertext stays sealed, the two-step unwrap through its temporary key too', async () => {
    const algorithm = firstSupported(backend, 'RSA_2048', ['RSA_AES_KEY_WRAP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1']);
    if (algorithm === undefined) {
      expect(backend.unsupportedReason({ materialSpec: 'RSA_2048', wrapping: { algorithm: 'RSA_AES_KEY_WRAP_SHA_256', keySpec: 'RSA_2048' } })).toMatch(/\S/);
    } else {
      const padding: Padding = algorithm.endsWith('256') ? 'oaep-sha256' : 'oaep-sha1';
      // The customer's key, made by the OpenSSL CLI; the envelope as AWS's single blob.
      const pem = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], { stdio: ['ignore', 'pipe', 'ignore'] });
      const material = new Uint8Array(execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER'], { input: pem }));
      const temporaryKey = new Uint8Array(randomBytes(32));
      const ciphertext = await importUsed('RSA_2048', algorithm, (pub) => Buffer.concat([opensslPkeyutlEncrypt(pub, temporaryKey, OAEP_OPTS(padding)), aesKwpWrap(temporaryKey, material)]));
      expectSealed(token, { name: `RSA_2048 / ${algorithm}`, padding, ciphertext, envelope: true, material });
    }
  });
});
