/**
 * The CKRs a failed private-key unwrap is taken to prove an authentic wrap by (unwrap-verdicts.ts),
 * checked on each device with pkcs11js directly, on both blob kinds: an authentic RFC 5649 wrap
 * and the same wrap tampered six ways (a bit flipped at the start, middle and end, truncated,
 * extended, under another KEK), of a PKCS#1 RSA key as an opaque secret and under the RSA
 * private-key template. A CKR the backend trusts must follow the authentic wrap and none of the
 * tampered ones. NSS softoken 3.87, as measured: CKR_TEMPLATE_INCONSISTENT (a secret over 256
 * bytes) and CKR_TEMPLATE_INCOMPLETE (not PKCS#8) only after its integrity check, every tampered
 * blob CKR_WRAPPED_KEY_INVALID. The key material never reaches the host (sensitive templates).
 */
import { createCipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import type * as Pkcs11Js from 'pkcs11js';
import { afterAll, describe, expect, it } from 'vitest';
import { MATERIAL_SPECS } from '../../src/algorithms/specs.js';
import type { Pkcs11Capabilities } from '../../src/backends/pkcs11/capabilities.js';
import { ckrOf, describeCkr } from '../../src/backends/pkcs11/ckr.js';
import { createPkcs11Backend, type Pkcs11Backend } from '../../src/backends/pkcs11/index.js';
import { hmacTemplate, privateKeyTemplate } from '../../src/backends/pkcs11/templates.js';
import { DEVICES, deviceOptions } from '../helpers/devices.js';

const OPENED = await Promise.all(DEVICES.map(async (device) => ({
  device,
  backend: device.unavailable() === undefined ? await createPkcs11Backend(deviceOptions(device.token('verdicts'), { sessions: 1 })) : undefined,
})));

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const PKCS1 = rsa.export({ type: 'pkcs1', format: 'der' });
const PKCS8 = rsa.export({ type: 'pkcs8', format: 'der' });

function kwpWrap(kek: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('id-aes256-wrap-pad', kek, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** Six tamperings of an RFC 5649 blob: none passes its integrity check (but for ~2^-64 odds). */
function tamperings(blob: Buffer, data: Buffer): Record<string, Buffer> {
  const flip = (i: number) => {
    const b = Buffer.from(blob);
    b[i] ^= 0x40;
    return b;
  };
  return {
    'first byte flipped': flip(0), 'middle byte flipped': flip(blob.length >> 1), 'last semiblock flipped': flip(blob.length - 3),
    truncated: blob.subarray(0, blob.length - 8), extended: Buffer.concat([blob, randomBytes(8)]), 'another KEK': kwpWrap(randomBytes(32), data),
  };
}

for (const { device, backend: opened } of OPENED) describe.skipIf(opened === undefined)(`unwrap verdicts on ${device.name}`, () => {
  const backend = opened as Pkcs11Backend;
  const capabilities = (opened as unknown as { capabilities?: Pkcs11Capabilities } | undefined)?.capabilities;
  const kwp = capabilities?.kwp;
  const noKwp = capabilities && kwp === undefined ? capabilities.temporaryKeyUnsupportedReason() : undefined;
  afterAll(async () => {
    await opened?.close();
  });

  it.skipIf(noKwp !== undefined)(`a CKR trusted as proof of an authentic wrap follows it and no tampered wrap, on both blob kinds${noKwp ? ` — skipped, the backend declares: ${noKwp}` : ''}`, () => {
    const { p11, lib: l } = backend.device;
    const kekValue = randomBytes(32);
    const seen = backend.device.withProbeSession((session) => {
      const kek = p11.C_CreateObject(session, [
        { type: l.CKA_CLASS, value: l.CKO_SECRET_KEY }, { type: l.CKA_KEY_TYPE, value: l.CKK_AES }, { type: l.CKA_TOKEN, value: false },
        { type: l.CKA_VALUE, value: kekValue }, { type: l.CKA_UNWRAP, value: true },
      ]);
      const unwrap = (blob: Buffer, template: Pkcs11Js.Template) => {
        try {
          p11.C_DestroyObject(session, p11.C_UnwrapKey(session, { mechanism: kwp! }, kek, blob, template));
          return 'CKR_OK';
        } catch (e) {
          const code = ckrOf(l, e);
          return code === undefined ? String(e) : describeCkr(l, code).replace(/ \(.*$/, '');
        }
      };
      const templates = { secret: hmacTemplate(l), rsa: privateKeyTemplate(l, MATERIAL_SPECS.RSA_2048.privateKey!) };
      const kinds = { pkcs1: PKCS1, pkcs8: PKCS8 };
      const out: Record<string, { authentic: string; tampered: Record<string, string> }> = {};
      for (const [kind, data] of Object.entries(kinds)) {
        for (const [name, template] of Object.entries(templates)) {
          const blob = kwpWrap(kekValue, data);
          out[`${kind} as ${name}`] = {
            authentic: unwrap(blob, template),
            tampered: Object.fromEntries(Object.entries(tamperings(blob, data)).map(([t, b]) => [t, unwrap(b, template)])),
          };
        }
      }
      return out;
    });
    kekValue.fill(0);
    const tamperedCkrs = new Set(Object.values(seen).flatMap((r) => Object.values(r.tampered)));
    expect(tamperedCkrs.has('CKR_OK'), 'no tampered wrap unwraps').toBe(false);
    expect(seen['pkcs8 as rsa'].authentic, 'a PKCS#8 RSA key unwraps').toBe('CKR_OK');
    const verdicts = capabilities!.unwrapVerdicts;
    const name = (code: number | undefined) => (code === undefined ? undefined : describeCkr(backend.device.lib, code).replace(/ \(.*$/, ''));
    const oversize = name(verdicts.authenticOversizeCkr);
    const notPkcs8 = name(verdicts.rsaNotPkcs8Ckr);
    expect(verdicts.longSecretUnwraps).toBe(seen['pkcs1 as secret'].authentic === 'CKR_OK');
    if (oversize !== undefined) {
      expect(seen['pkcs1 as secret'].authentic).toBe(oversize);
      expect(tamperedCkrs.has(oversize), `${oversize} follows no tampered wrap`).toBe(false);
    }
    if (notPkcs8 !== undefined) {
      expect(seen['pkcs1 as rsa'].authentic).toBe(notPkcs8);
      expect(tamperedCkrs.has(notPkcs8), `${notPkcs8} follows no tampered wrap`).toBe(false);
    }
    if (device.id === 'nss') {
      // As measured on NSS softoken 3.87: the integrity value is checked before the length and the content.
      expect([oversize, notPkcs8]).toEqual(['CKR_TEMPLATE_INCONSISTENT', 'CKR_TEMPLATE_INCOMPLETE']);
      expect([...tamperedCkrs]).toEqual(['CKR_WRAPPED_KEY_INVALID']);
    }
  });

  it('the report states how a PKCS#1 key is told from a bad wrap', () => {
    const verdict = String(backend.capabilityReport().device?.pkcs1RsaKey);
    if (noKwp !== undefined) expect(verdict).toBe(`no key wrap: ${capabilities!.kwpReason}`);
    else expect(verdict).toMatch(/^INVALID_PRIVATE_KEY: /);
  });
});
