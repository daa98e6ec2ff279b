/**
 * How a PKCS#11 module is loaded (issue 15, defect 10): C_Initialize library parameters (NSS's
 * softoken cannot be opened without them), modules keyed by their real path (a symlink to a
 * loaded library is the same module), and CK_ULONG attributes read at the platform's width.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCkUlong } from '../../src/backends/pkcs11/ck-ulong.js';
import { createPkcs11Backend } from '../../src/backends/pkcs11/index.js';
import { loadPkcs11Js } from '../../src/backends/pkcs11/pkcs11js.js';
import { pkcs11Options, readConfig } from '../../src/config/config.js';
import { device, deviceOptions } from '../helpers/devices.js';

const nss = device('nss');
const softhsm = device('softhsm2');
const opencryptoki = device('opencryptoki');
const dir = mkdtempSync(join(tmpdir(), 'byok-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CK_ULONG attribute values', () => {
  it('are read as 4 or 8 bytes in the host byte order, whichever the buffer holds', () => {
    const four = Buffer.alloc(4);
    four.writeUInt32LE(32);
    const eight = Buffer.alloc(8);
    eight.writeBigUInt64LE(32n);
    expect(readCkUlong(four)).toBe(32);
    expect(readCkUlong(eight)).toBe(32);
    // The high half of a 64-bit value counts (the old reader masked it off).
    eight.writeBigUInt64LE(2n ** 32n + 32n);
    expect(readCkUlong(eight)).toBe(2 ** 32 + 32);
  });

  it('of another width, or beyond 2^53, are refused rather than guessed', () => {
    expect(() => readCkUlong(new Uint8Array(2))).toThrow(expect.objectContaining({ code: 'INTERNAL_ERROR' }));
    expect(() => readCkUlong(new Uint8Array(8).fill(0xff))).toThrow(expect.objectContaining({ code: 'INTERNAL_ERROR' }));
  });
});

describe('C_Initialize library parameters from configuration', () => {
  it('come from --pkcs11-init-params, BYOK_PKCS11_INIT_PARAMS or pkcs11.libraryParameters, and need --backend pkcs11', () => {
    const params = "configdir='sql:/db' certPrefix='' keyPrefix='' secmod='secmod.db'";
    const env = { BYOK_PKCS11_PIN: '1', BYOK_PKCS11_MODULE: '/m.so' };
    expect(pkcs11Options(readConfig('kat', ['--backend', 'pkcs11', '--pkcs11-init-params', params], env)).libraryParameters).toBe(params);
    expect(pkcs11Options(readConfig('serve', ['--backend', 'pkcs11'], { ...env, BYOK_PKCS11_INIT_PARAMS: params })).libraryParameters).toBe(params);
    expect(pkcs11Options(readConfig('kat', [], env)).libraryParameters).toBeUndefined();
    expect(() => readConfig('serve', ['--pkcs11-init-params', params], {})).toThrow('--pkcs11-* options need --backend pkcs11');
  });
});

describe.skipIf(nss.unavailable() !== undefined)('NSS softoken through library parameters', () => {
  // First in this file: NSS is not yet initialised in this process, so the bare C_Initialize runs.
  it('without them the module refuses C_Initialize, reported as a server fault naming the CKR', async () => {
    const { libraryParameters: _, ...bare } = deviceOptions(nss.token());
    await expect(createPkcs11Backend(bare)).rejects.toMatchObject({ fault: 'server', message: expect.stringMatching(/CKR_ARGUMENTS_BAD \(0x00000007\)/) });
  });

  it('with them the token in the certutil database opens, logs in, and reports CKA_VALUE_LEN as a CK_ULONG', async () => {
    const token = nss.token();
    const backend = await createPkcs11Backend(deviceOptions(token, { sessions: 1 }));
    try {
      await backend.checkReady();
      // The same token through a second pkcs11js handle: a generated AES-256 key says 32.
      const lib = await loadPkcs11Js();
      const p11 = backend.device.p11;
      const value = await backend.device.withSession((session) => {
        const key = p11.C_GenerateKey(session, { mechanism: lib.CKM_AES_KEY_GEN }, [
          { type: lib.CKA_TOKEN, value: false }, { type: lib.CKA_VALUE_LEN, value: 32 },
        ]);
        try {
          return p11.C_GetAttributeValue(session, key, [{ type: lib.CKA_VALUE_LEN }])[0].value!;
        } finally {
          p11.C_DestroyObject(session, key);
        }
      });
      expect(value.length).toBe(8);
      expect(readCkUlong(value)).toBe(32);
    } finally {
      await backend.close();
    }
  });

  it('a second backend asking the loaded module for other parameters is refused with a clear error', async () => {
    const token = nss.token();
    const first = await createPkcs11Backend(deviceOptions(token, { sessions: 1 }));
    try {
      await expect(createPkcs11Backend(deviceOptions(token, { sessions: 1, libraryParameters: `${token.libraryParameters} flags=readOnly` })))
        .rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringContaining('already initialised in this process with other library parameters') });
      // Same parameters: the module is shared.
      const second = await createPkcs11Backend(deviceOptions(token, { sessions: 1 }));
      await second.close();
      await first.checkReady();
    } finally {
      await first.close();
    }
  });
});

describe.skipIf(softhsm.unavailable() !== undefined)('modules keyed by their real path (SoftHSM2)', () => {
  it('a backend through a symlink to a loaded module shares it instead of failing with CKR_CRYPTOKI_ALREADY_INITIALIZED', async () => {
    const token = softhsm.token('symlink');
    const link = join(dir, 'libsofthsm2-link.so');
    symlinkSync(token.module, link);
    const direct = await createPkcs11Backend(deviceOptions(token, { sessions: 1 }));
    try {
      const viaLink = await createPkcs11Backend(deviceOptions({ ...token, module: link }, { sessions: 1 }));
      try {
        await viaLink.generateWrappingKeyPair('RSA_2048');
        await viaLink.checkReady();
      } finally {
        await viaLink.close();
      }
      // The last one out finalises: the first backend still works after the second closed.
      await direct.generateWrappingKeyPair('RSA_2048');
      await direct.checkReady();
    } finally {
      await direct.close();
    }
  });
});

describe.skipIf(opencryptoki.unavailable() !== undefined)('modules keyed by their real path (opencryptoki)', () => {
  it('Debian\'s two names of the library, PKCS11_API.so and libopencryptoki.so, are one module', async () => {
    const token = opencryptoki.token();
    const a = await createPkcs11Backend(deviceOptions(token, { sessions: 1 }));
    try {
      const b = await createPkcs11Backend(deviceOptions({ ...token, module: token.module.replace(/libopencryptoki\.so$/, 'PKCS11_API.so') }, { sessions: 1 }));
      await b.checkReady();
      await b.close();
      await a.checkReady();
    } finally {
      await a.close();
    }
  });
});
