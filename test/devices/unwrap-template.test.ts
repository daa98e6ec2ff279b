/**
 * CKA_UNWRAP_TEMPLATE (issue 15, defect 2): the pkcs11-attrs addon passes it, the start-up check
 * learns whether the device enforces it, and the policy decides whether the backend may start.
 * Measured: SoftHSM2 enforces it; NSS softoken takes it and ignores it; opencryptoki 3.8 refuses it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttributeArrays } from '../../src/backends/pkcs11/attribute-arrays.js';
import { Pkcs11Device } from '../../src/backends/pkcs11/device.js';
import { createPkcs11Backend } from '../../src/backends/pkcs11/index.js';
import { loadPkcs11Js } from '../../src/backends/pkcs11/pkcs11js.js';
import { unwrapTemplateSupport } from '../../src/backends/pkcs11/unwrap-template-check.js';
import { DEVICES, device, deviceOptions } from '../helpers/devices.js';

const softhsm = device('softhsm2');

describe('the pkcs11-attrs addon', () => {
  const addon = createRequire(import.meta.url)(join(process.cwd(), 'native-bindings/pkcs11-attrs/build/Release/pkcs11_attrs.node')) as {
    openModule(path: string): unknown;
    generateKeyPair(...args: unknown[]): Promise<unknown>;
  };

  it('reaches only a module pkcs11js already loaded (a fresh copy would be uninitialised)', () => {
    expect(() => addon.openModule('/nonexistent/libnothing.so')).toThrow(/not loaded in this process/);
  });

  it.skipIf(softhsm.unavailable() !== undefined)('refuses a template it cannot marshal with a TypeError, before calling the device', async () => {
    const token = softhsm.token('addon-types');
    const lib = await loadPkcs11Js();
    const dev = await Pkcs11Device.open({ ...deviceOptions(token), sessions: 1 });
    try {
      const module = addon.openModule(dev.modulePath);
      const session = Buffer.alloc(8);
      expect(() => addon.generateKeyPair(module, session, lib.CKM_RSA_PKCS_KEY_PAIR_GEN, [{ type: lib.CKA_TOKEN, value: {} }], [])).toThrow(TypeError);
      expect(() => addon.generateKeyPair(module, session, lib.CKM_RSA_PKCS_KEY_PAIR_GEN, [], [{ type: lib.CKA_LABEL, value: [1, 2] }])).toThrow(/attribute-array type/);
      expect(() => addon.generateKeyPair(module, Buffer.alloc(3), lib.CKM_RSA_PKCS_KEY_PAIR_GEN, [], [])).toThrow(/session handle/);
    } finally {
      dev.close();
    }
  });
});

for (const d of DEVICES) describe.skipIf(d.unavailable() !== undefined)(`the start-up unwrap-template check (${d.name})`, () => {
  it(`finds it ${d.unwrapTemplate}, and the default policy (required) ${d.unwrapTemplate === 'enforced' ? 'starts' : 'refuses to start'}`, async () => {
    const token = d.token('unwrap-template');
    const best = await createPkcs11Backend(deviceOptions(token, { sessions: 1, unwrapTemplatePolicy: 'best-effort' }));
    try {
      expect(best.unwrapTemplate.state).toBe(d.unwrapTemplate);
      expect(best.unwrapTemplate.detail).toMatch(/\S{4}/);
      // …and the capability report (the start-up log, byok pkcs11 report, /readyz) says the same.
      expect(String(best.capabilityReport().device!.unwrapTemplate)).toMatch(new RegExp(`^${d.unwrapTemplate}`));
    } finally {
      await best.close();
    }
    const required = createPkcs11Backend(deviceOptions(token, { sessions: 1, unwrapTemplatePolicy: 'required' }));
    if (d.unwrapTemplate === 'enforced') {
      await (await required).close();
    } else {
      await expect(required).rejects.toMatchObject({
        code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(new RegExp(`CKA_UNWRAP_TEMPLATE is not enforced here \\(${d.unwrapTemplate}: .*BYOK_PKCS11_UNWRAP_TEMPLATE=best-effort`)),
      });
    }
  });

  it('without the addon: required refuses to start naming the missing build; best-effort starts and reports no-addon', async () => {
    const token = d.token('no-addon');
    const dev = await Pkcs11Device.open({ ...deviceOptions(token), sessions: 1 });
    try {
      const missing = { missing: 'the pkcs11-attrs addon is not built (npm run build:native)' };
      await expect(unwrapTemplateSupport(dev, 'required', missing)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringContaining('no-addon: the pkcs11-attrs addon is not built') });
      const support = await unwrapTemplateSupport(dev, 'best-effort', missing);
      expect(support).toEqual({ status: { state: 'no-addon', detail: missing.missing } });
    } finally {
      dev.close();
    }
  });
});

describe.skipIf(softhsm.unavailable() !== undefined)('a wrapping key made on SoftHSM2', () => {
  it('carries CKA_UNWRAP_TEMPLATE = { CKA_SENSITIVE: true, CKA_EXTRACTABLE: false }, read back from the device', async () => {
    const token = softhsm.token('wrapping-template');
    const backend = await createPkcs11Backend(deviceOptions(token, { sessions: 1 }));
    try {
      const pair = await backend.generateWrappingKeyPair('RSA_2048');
      const lib = await loadPkcs11Js();
      const arrays = AttributeArrays.open(lib, backend.device.modulePath);
      if ('missing' in arrays) throw new Error(arrays.missing);
      const template = await backend.device.withSession((session) => {
        const [key] = backend.device.findObjects(session, [{ type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY }, { type: lib.CKA_ID, value: Buffer.from(pair.privateKeyBlob.subarray(1)) }], 1);
        return arrays.getAttributeTemplate(session, key, lib.CKA_UNWRAP_TEMPLATE);
      });
      expect(template.map((a) => [a.type, a.value.toString('hex')]).sort()).toEqual([[lib.CKA_SENSITIVE, '01'], [lib.CKA_EXTRACTABLE, '00']].sort());
    } finally {
      await backend.close();
    }
  });
});
