/**
 * The README's device matrix, as measured: for each device, each operation is asked of the
 * backend itself (`unsupportedReason`, from the device's mechanisms and start-up probes) — once as
 * configured by default, once with the opt-in host decode — and the unwrap-template check's
 * finding. The README's column for the device must say exactly that. After a change:
 * BYOK_DEVICE_MATRIX_OUT=DIR npx vitest run test/devices/matrix.test.ts, then
 * node scripts/device-matrix.mjs DIR rewrites the README's table from DIR/<device>.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MaterialSpec, WrappingAlgorithm, WrappingKeySpec } from '../../src/algorithms/specs.js';
import { createPkcs11Backend, type Pkcs11Backend } from '../../src/backends/pkcs11/index.js';
import { DEVICES, deviceOptions } from '../helpers/devices.js';

/** The rows: what is imported, wrapped how. */
const OPERATIONS: ReadonlyArray<{ row: string; materialSpec: MaterialSpec; algorithm: WrappingAlgorithm; keySpec: WrappingKeySpec }> = [
  { row: 'AES_256 ← `RSAES_OAEP_SHA_256`', materialSpec: 'AES_256', algorithm: 'RSAES_OAEP_SHA_256', keySpec: 'RSA_2048' },
  { row: 'AES_256 ← `RSAES_OAEP_SHA_1`', materialSpec: 'AES_256', algorithm: 'RSAES_OAEP_SHA_1', keySpec: 'RSA_2048' },
  { row: 'AES_256 ← `RSAES_PKCS1_V1_5`', materialSpec: 'AES_256', algorithm: 'RSAES_PKCS1_V1_5', keySpec: 'RSA_2048' },
  { row: 'HMAC_256 ← `RSAES_OAEP_SHA_256`', materialSpec: 'HMAC_256', algorithm: 'RSAES_OAEP_SHA_256', keySpec: 'RSA_2048' },
  { row: 'HMAC_256 ← `RSAES_OAEP_SHA_1`', materialSpec: 'HMAC_256', algorithm: 'RSAES_OAEP_SHA_1', keySpec: 'RSA_2048' },
  { row: 'RSA_2048 ← `RSA_AES_KEY_WRAP_SHA_256`', materialSpec: 'RSA_2048', algorithm: 'RSA_AES_KEY_WRAP_SHA_256', keySpec: 'RSA_2048' },
  { row: 'RSA_2048 ← `RSA_AES_KEY_WRAP_SHA_1`', materialSpec: 'RSA_2048', algorithm: 'RSA_AES_KEY_WRAP_SHA_1', keySpec: 'RSA_2048' },
  { row: 'ECC_NIST_P256 ← `RSA_AES_KEY_WRAP_SHA_256`', materialSpec: 'ECC_NIST_P256', algorithm: 'RSA_AES_KEY_WRAP_SHA_256', keySpec: 'RSA_2048' },
  { row: 'SM4_128 ← `SM2_ENCRYPT`', materialSpec: 'SM4_128', algorithm: 'SM2_ENCRYPT', keySpec: 'SM2' },
];
const TEMPLATE_ROW = 'wrapping key\'s `CKA_UNWRAP_TEMPLATE`';
/** An authentic wrap of a PKCS#1 (not PKCS#8) RSA key: INVALID_PRIVATE_KEY with the hint, or the uniform error (unwrap-verdicts.ts). */
const PKCS1_ROW = 'RSA_2048 sent as PKCS#1 (authentic wrap)';

function pkcs1Cell(backend: Pkcs11Backend): string {
  const reason = backend.unsupportedReason({ materialSpec: 'RSA_2048' });
  return reason !== undefined ? `unsupported: ${reason}` : String(backend.capabilityReport().device?.pkcs1RsaKey);
}

/** One cell: where the operation runs, or why it does not. */
function cell(plain: Pkcs11Backend, host: Pkcs11Backend, op: (typeof OPERATIONS)[number]): string {
  const query = { materialSpec: op.materialSpec, wrapping: { algorithm: op.algorithm, keySpec: op.keySpec } };
  const reason = plain.unsupportedReason(query);
  if (reason === undefined) return 'device';
  if (host.unsupportedReason(query) === undefined) return 'host (opt-in host decode)';
  return `unsupported: ${reason}`;
}

function templateCell(backend: Pkcs11Backend): string {
  const { state, detail } = backend.unwrapTemplate;
  return state === 'enforced' ? 'enforced (device)' : `${state}: ${detail}`;
}

/** The README table between the markers: row label → (column header → cell). */
function readmeMatrix(): Map<string, Map<string, string>> {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- device-matrix -->');
  const end = readme.indexOf('<!-- /device-matrix -->');
  if (start < 0 || end < start) throw new Error('README.md has no <!-- device-matrix --> … <!-- /device-matrix --> section');
  const rows = readme.slice(start, end).split('\n').filter((l) => l.startsWith('|')).map((l) => l.slice(1, -1).split(' | ').map((c) => c.trim()));
  const [header, , ...body] = rows;
  return new Map(body.map((r) => [r[0], new Map(header.slice(1).map((h, i) => [h, r[i + 1]]))]));
}

for (const device of DEVICES) describe.skipIf(device.unavailable() !== undefined)(`the README's device matrix: the ${device.name} column`, () => {
  it('says what the backend on the device answers, row by row', async () => {
    const token = device.token('matrix');
    const options = deviceOptions(token, { sessions: 1, unwrapTemplatePolicy: 'best-effort' });
    const plain = await createPkcs11Backend(options);
    const host = await createPkcs11Backend({ ...options, allowHostOaepDecode: true });
    try {
      const measured: Record<string, string> = Object.fromEntries(OPERATIONS.map((op) => [op.row, cell(plain, host, op)]));
      measured[PKCS1_ROW] = pkcs1Cell(plain);
      measured[TEMPLATE_ROW] = templateCell(plain);
      const out = process.env.BYOK_DEVICE_MATRIX_OUT;
      if (out) writeFileSync(join(out, `${device.id}.json`), JSON.stringify({ header: device.name, cells: measured }, null, 2));
      const table = readmeMatrix();
      const documented = Object.fromEntries([...table].map(([row, cols]) => [row, cols.get(device.name)]));
      expect(documented).toEqual(measured);
    } finally {
      await host.close();
      await plain.close();
    }
  });
});
