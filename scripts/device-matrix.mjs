#!/usr/bin/env node
// Rewrites the README's device matrix (between <!-- device-matrix --> and <!-- /device-matrix -->)
// from the columns test/devices/matrix.test.ts measured:
//   BYOK_DEVICE_MATRIX_OUT=DIR npx vitest run test/devices/matrix.test.ts; node scripts/device-matrix.mjs DIR
// Columns in device order (SoftHSM2, NSS softoken, opencryptoki); a device not measured keeps no column.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/device-matrix.mjs DIR');
const columns = ['softhsm2', 'nss', 'opencryptoki'].map((d) => join(dir, `${d}.json`)).filter(existsSync).map((f) => JSON.parse(readFileSync(f, 'utf8')));
if (columns.length === 0) throw new Error(`no measured columns in ${dir}`);
const rows = Object.keys(columns[0].cells);
const table = [
  `| operation | ${columns.map((c) => c.header).join(' | ')} |`,
  `| --- |${' --- |'.repeat(columns.length)}`,
  ...rows.map((r) => `| ${r} | ${columns.map((c) => c.cells[r]).join(' | ')} |`),
].join('\n');
const readme = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
const text = readFileSync(readme, 'utf8');
const start = text.indexOf('<!-- device-matrix -->') + '<!-- device-matrix -->'.length;
const end = text.indexOf('<!-- /device-matrix -->');
writeFileSync(readme, `${text.slice(0, start)}\n${table}\n${text.slice(end)}`);
