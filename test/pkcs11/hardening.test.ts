/**
 * Issue 15 on every PKCS#11 device of this machine (SoftHSM2, NSS's softoken; what opencryptoki
 * lacks is declared): sessions that failed requests cannot break (bad and good imports mixed),
 * recovery from C_CloseAllSessions / C_Logout / C_Finalize injected from a second pkcs11js
 * handle, the key policy read back from the device by that second handle, bounded object counts, the
 * key-wrap code and AES-GCM chosen by running them, and the start-up capability report. The PIN
 * (a recovery whose login fails, the retry flags) is pin-states.test.ts.
 */
import { createDecipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaterialSpec } from '../../src/algorithms/specs.js';
import type { Pkcs11Backend } from '../../src/backends/pkcs11/index.js';
import { wrapForImport } from '../../src/client/wrap.js';
import { ManualClock } from '../../src/clock.js';
import { ImportEngine } from '../../src/engine/import-engine.js';
import type { ByokError } from '../../src/errors.js';
import { MemoryKeyStore } from '../../src/store/memory-store.js';
import { DEVICES, deviceOptions, type DeviceToken } from '../helpers/devices.js';
import { OBJECT_COUNTS_TIMEOUT_MS, OBJECT_COUNTS_TITLE, objectCounts } from '../helpers/object-counts.js';
import { deviceEngine, type DeviceEngine } from '../helpers/device-engine.js';
import { expectCode } from '../helpers/expect-code.js';
import type { SecondHandle } from '../helpers/second-handle.js';

const TENANT = 'tenant-p11';
const OAEP = 'RSAES_OAEP_SHA_1';
/** One customer RSA key for every good private-key import (the device parses it each time). */
const customerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

/** Open the engine's ciphertext blob (0x01 ‖ key ID(36) ‖ iv ‖ ct ‖ tag) with the customer's own AES key. */
function localAesGcmOpen(material: Uint8Array, blob: Uint8Array): string {
  const body = blob.subarray(37);
  const d = createDecipheriv('aes-256-gcm', material, body.subarray(0, 12));
  d.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]).toString();
}

const bool = (b: Buffer | undefined) => (b === undefined ? undefined : b[0] !== 0);

/** SoftHSM2 and NSS run every test; opencryptoki the ones its mechanisms allow (its gaps are asserted). */
const ENTRIES = DEVICES.map((d) => [d.name, d] as const);

for (const [name, dev] of ENTRIES) describe.skipIf(dev.unavailable() !== undefined)(`PKCS#11 hardening on ${name}`, () => {
  const unavailable = dev.unavailable();
  const privateKeys = dev.id !== 'opencryptoki';
  const clock = new ManualClock(Date.UTC(2026, 11, 1));
  let token: DeviceToken;
  let backend: Pkcs11Backend;
  let second: SecondHandle;
  let engine: ImportEngine;

  let opened: DeviceEngine | undefined;
  beforeAll(async () => {
    token = dev.token('harden');
    opened = await deviceEngine(token, clock);
    ({ backend, engine, second } = opened);
  });
  afterAll(() => opened?.close());

  /** A fresh external key of `spec` and its import parameters. */
  async function params(spec: MaterialSpec, algorithm = OAEP) {
    const key = await engine.createKey({ tenant: TENANT, keySpec: spec });
    return { keyId: key.keyId, ...(await engine.getParametersForImport({ tenant: TENANT, keyId: key.keyId, wrappingAlgorithm: algorithm })) };
  }
  const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
  /** A good import of the customer's RSA key (private-key devices) or of HMAC material. */
  async function goodImport() {
    const spec: MaterialSpec = privateKeys ? 'RSA_2048' : 'HMAC_256';
    const algorithm = privateKeys ? OAEP : 'RSAES_OAEP_SHA_256';
    const p = await params(spec, algorithm);
    const w = wrapForImport(privateKeys ? { publicKey: p.publicKey, algorithm, privateKey: customerRsa } : { publicKey: p.publicKey, algorithm, material: new Uint8Array(randomBytes(32)) });
    return () => engine.importKeyMaterial({
      tenant: TENANT, keyId: p.keyId, importToken: p.importToken, encryptedKeyMaterial: b64(w.encryptedKeyMaterial),
      ...(w.encryptedPrivateKey ? { encryptedPrivateKey: b64(w.encryptedPrivateKey) } : {}),
    });
  }
  describe.skipIf(unavailable !== undefined)('sessions', () => {
    it('bad and good imports mixed concurrently: every good import succeeds, every bad one is the uniform error', async () => {
      const goods = await Promise.all(Array.from({ length: 6 }, () => goodImport()));
      // Bad ones: the same shape with the RSA layer or the key-wrap layer corrupted.
      const bads = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
        const spec: MaterialSpec = privateKeys ? 'RSA_2048' : 'HMAC_256';
        const algorithm = privateKeys ? OAEP : 'RSAES_OAEP_SHA_256';
        const p = await params(spec, algorithm);
        const w = wrapForImport(privateKeys ? { publicKey: p.publicKey, algorithm, privateKey: customerRsa } : { publicKey: p.publicKey, algorithm, material: new Uint8Array(randomBytes(32)) });
        const material = Uint8Array.from(w.encryptedKeyMaterial);
        const wrapped = w.encryptedPrivateKey ? Uint8Array.from(w.encryptedPrivateKey) : undefined;
        if (i % 2 === 0 || !wrapped) material[7] ^= 1;
        else wrapped[9] ^= 1;
        return () => engine.importKeyMaterial({
          tenant: TENANT, keyId: p.keyId, importToken: p.importToken, encryptedKeyMaterial: b64(material),
          ...(wrapped ? { encryptedPrivateKey: b64(wrapped) } : {}),
        });
      }));
      const runs = goods.flatMap((g, i) => [g(), bads[i]()]);
      const results = await Promise.allSettled(runs);
      const good = results.filter((_, i) => i % 2 === 0);
      const bad = results.filter((_, i) => i % 2 === 1);
      expect(good.map((r) => (r.status === 'fulfilled' ? r.value.state : (r.reason as ByokError).code))).toEqual(Array(6).fill('Enabled'));
      expect(bad.map((r) => (r.status === 'rejected' ? (r.reason as ByokError).code : 'imported'))).toEqual(Array(6).fill('DECRYPT_MATERIAL_FAILED'));
      // Retired sessions closed once their objects were released: the pool is back to its size.
      expect(backend.device.openSessions).toBeLessThanOrEqual(2);
    });

    it('a wait for a free session has a timeout: DEVICE_UNAVAILABLE, not a hang', async () => {
      const { createPkcs11Backend } = await import('../../src/backends/pkcs11/index.js');
      const one = await createPkcs11Backend(deviceOptions(token, { sessions: 1, sessionWaitMs: 50, clock, sweepIntervalMs: 0 }));
      try {
        let release!: () => void;
        const held = one.device.withSession(() => new Promise<void>((r) => { release = r; }));
        await expectCode(one.device.withSession(() => 1), 'DEVICE_UNAVAILABLE', /No PKCS#11 session became free within 50 ms/);
        release();
        await held;
        expect(await one.device.withSession(() => 2)).toBe(2);
      } finally {
        await one.close();
      }
    });
  });

  describe.skipIf(unavailable !== undefined)('recovery', () => {
    it.each([
      ['C_CloseAllSessions', (h: SecondHandle) => h.p11.C_CloseAllSessions(h.slot)],
      ['C_Logout', (h: SecondHandle) => h.session((s) => h.p11.C_Logout(s))],
      ['C_Finalize', (h: SecondHandle) => h.p11.C_Finalize()],
    ] as const)('after %s from a second handle: imports, key generation and /readyz work again', async (_what, inject) => {
      const ready = await goodImport();
      inject(second);
      expect((await ready()).state).toBe('Enabled');
      inject(second);
      await backend.checkReady();
      inject(second);
      const pair = await backend.generateWrappingKeyPair('RSA_2048');
      expect(pair.publicKeySpki.length).toBeGreaterThan(256);
      inject(second);
      expect(await backend.generateMaterial('HMAC_256')).toBeTruthy();
      expect(backend.device.recoveries).toBeGreaterThan(0);
    });
    // A recovery whose re-login fails (the PIN changed under it): pin-states.test.ts, on every device.
  });

  describe.skipIf(unavailable !== undefined)('key policy, read back by a second handle', () => {
    it.skipIf(!privateKeys)('stored material is not modifiable and only its uses; wrapping keys unwrap only; a PIN holder cannot switch on WRAP', async () => {
      const l = second.l;
      const rsa = await goodImport();
      expect((await rsa()).state).toBe('Enabled');
      const aes = await params('AES_256');
      const material = new Uint8Array(randomBytes(32));
      await engine.importKeyMaterial({ tenant: TENANT, keyId: aes.keyId, importToken: aes.importToken, encryptedKeyMaterial: b64(wrapForImport({ publicKey: aes.publicKey, algorithm: OAEP, material }).encryptedKeyMaterial) });
      // The device's GCM (CK_GCM_PARAMS v2.40) opens locally with the customer's material.
      const sealed = await engine.encrypt({ tenant: TENANT, keyId: aes.keyId, plaintext: new TextEncoder().encode('device gcm') });
      expect(localAesGcmOpen(material, sealed.ciphertextBlob)).toBe('device gcm');

      const types = [l.CKA_MODIFIABLE, l.CKA_SENSITIVE, l.CKA_EXTRACTABLE, l.CKA_DECRYPT, l.CKA_UNWRAP, l.CKA_WRAP, l.CKA_DERIVE, l.CKA_SIGN, l.CKA_ENCRYPT];
      const stored = second.objects('byok-material/', types);
      expect(stored.length).toBeGreaterThanOrEqual(2);
      const caps = backend.capabilityReport().device!;
      for (const o of stored) {
        const [modifiable, sensitive, extractable, decrypt, unwrap, wrap, derive] = o.values.map(bool);
        expect({ label: o.label, modifiable, sensitive, extractable, unwrap, wrap: wrap === true, derive }).toEqual({ label: o.label, modifiable: false, sensitive: true, extractable: false, unwrap: false, wrap: false, derive: false });
        expect(decrypt === false || o.label.includes(aes.keyId)).toBe(true);
      }
      const aesObject = stored.find((o) => o.label.includes(aes.keyId))!;
      expect(aesObject).toBeTruthy();
      // A PIN holder tries to switch on WRAP (to wrap the key out under its own key): refused.
      second.session((s) => {
        second.p11.C_FindObjectsInit(s, [{ type: l.CKA_LABEL, value: aesObject.label }]);
        const [obj] = second.p11.C_FindObjects(s, 1);
        second.p11.C_FindObjectsFinal(s);
        expect(() => second.p11.C_SetAttributeValue(s, obj, [{ type: l.CKA_WRAP, value: true }])).toThrow();
        if (caps.notCopyableCopies) expect(() => second.p11.C_CopyObject(s, obj, [{ type: l.CKA_TOKEN, value: false }])).toThrow();
      });
      // Wrapping keys: unwrap only, not modifiable or copyable, no sign-recover or derive, mechanisms listed.
      await backend.generateWrappingKeyPair('RSA_2048');
      const wrapping = second.objects('byok-wrapping-key/', [l.CKA_UNWRAP, l.CKA_DECRYPT, l.CKA_SIGN, l.CKA_SIGN_RECOVER, l.CKA_DERIVE, l.CKA_MODIFIABLE, l.CKA_COPYABLE, l.CKA_ALLOWED_MECHANISMS]);
      expect(wrapping.length).toBeGreaterThan(0);
      for (const w of wrapping) {
        expect(w.values.slice(0, 6).map(bool)).toEqual([true, false, false, false, false, false]);
        // CKA_COPYABLE=false where the device can keep it on a token object (NSS's database cannot).
        if (caps.notCopyableObjects) expect(bool(w.values[6])).toBe(false);
        if (caps.allowedMechanisms) expect(w.values[7]?.length).toBe(16); // OAEP and PKCS#1 v1.5
      }
    });

    it.skipIf(!privateKeys)('the audit says host-decode when an envelope\'s temporary key was decoded on the host', async () => {
      const { createPkcs11Backend } = await import('../../src/backends/pkcs11/index.js');
      const host = await createPkcs11Backend(deviceOptions(token, { sessions: 2, clock, sweepIntervalMs: 0, allowHostOaepDecode: true }));
      const audits: Array<{ operation: string; unwrapPath?: string }> = [];
      const e2 = new ImportEngine({
        backend: host, store: new MemoryKeyStore(), clock, onAudit: (r) => audits.push(r),
        tokenSealingKeys: [{ id: 'tk', key: new Uint8Array(randomBytes(32)) }], commitmentKey: new Uint8Array(randomBytes(32)),
      });
      try {
        // SHA-256 where the device lacks it (SoftHSM2): the RSA layer is decoded on the host.
        const algorithm = dev.id === 'softhsm2' ? 'RSA_AES_KEY_WRAP_SHA_256' : 'RSA_AES_KEY_WRAP_SHA_1';
        const key = await e2.createKey({ tenant: TENANT, keySpec: 'RSA_2048' });
        const p = await e2.getParametersForImport({ tenant: TENANT, keyId: key.keyId, wrappingAlgorithm: algorithm });
        const w = wrapForImport({ publicKey: p.publicKey, algorithm, privateKey: customerRsa });
        await e2.importKeyMaterial({ tenant: TENANT, keyId: key.keyId, importToken: p.importToken, encryptedKeyMaterial: b64(w.encryptedKeyMaterial) });
        const imported = audits.find((a) => a.operation === 'ImportKeyMaterial')!;
        expect(imported.unwrapPath).toBe(dev.id === 'softhsm2' ? 'host-decode' : 'device-unwrap');
      } finally {
        await e2.close();
        await host.close();
      }
    });
  });

  // opencryptoki's token is shared with other processes: its object counts run on a token of
  // their own, in pin-states.test.ts (object-counts.ts says why).
  if (dev.id !== 'opencryptoki') describe.skipIf(unavailable !== undefined)('object counts', () => {
    it(OBJECT_COUNTS_TITLE, () => objectCounts(token, second), OBJECT_COUNTS_TIMEOUT_MS);
  });

  describe.skipIf(unavailable !== undefined)('capabilities from the device', () => {
    it('the key-wrap code ran an RFC 5649 vector, GCM a round trip; the report names every algorithm × spec', () => {
      const report = backend.capabilityReport();
      const kwp = { softhsm2: '0x210A', nss: '0x210B', opencryptoki: undefined }[dev.id];
      if (kwp) expect(report.device!.keyWrapWithPadding).toBe(kwp);
      else expect(report.device!.keyWrapWithPadding).toMatch(/^none: no AES key wrap with padding passed the RFC 5649 vector/);
      expect(report.device!.aesGcm).toBe(dev.id !== 'opencryptoki');
      const row = (algorithm: string, keySpec: string) => report.rows.find((r) => r.algorithm === algorithm && r.keySpec === keySpec)!;
      const material = (spec: string) => report.rows.find((r) => r.materialSpec === spec)!;
      expect(row('SM2_ENCRYPT', 'SM2')).toMatchObject({ status: 'unsupported', reason: expect.stringMatching(/no SM2 mechanism/) });
      expect(row('RSAES_OAEP_SHA_1', 'RSA_2048').status).toBe('device');
      expect(row('RSAES_OAEP_SHA_256', 'RSA_2048').status).toBe(dev.id === 'softhsm2' ? 'unsupported' : 'device');
      // HMAC keys need only their HMAC (no GCM, no CMAC): opencryptoki imports them too.
      expect(material('HMAC_256').status).toBe('device');
      expect(material('AES_256').status).toBe(dev.id === 'opencryptoki' ? 'unsupported' : 'device');
      if (dev.id === 'opencryptoki') {
        expect(material('AES_256').reason).toMatch(/AES-GCM/);
        expect(material('RSA_2048').reason).toMatch(/AES key wrap with padding/);
        expect(report.device!.fingerprint).toBe('aes-ecb');
      }
      expect(report.rows.filter((r) => r.status === 'unsupported').every((r) => (r.reason ?? '').length > 10)).toBe(true);
    });
  });
});
