/** The README's generated tables equal what the source generates (`npm run docs:tables` rewrites them). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsMarkdownTable } from '../src/config/settings-table.js';
import { errorCodesMarkdownTable } from '../src/server/dialects/error-table.js';
import { ERROR_CODES } from '../src/errors.js';
import { DIALECTS } from '../src/server/dialects/index.js';
import { operationsMarkdownTable } from '../src/server/dialects/operations-table.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = (name: string) => readme.split(`<!-- ${name}:start -->\n`)[1]?.split(`\n<!-- ${name}:end -->`)[0];

describe('README tables generated from the source', () => {
  it('the configuration table is settings.ts', () => {
    expect(section('config-table')).toBe(settingsMarkdownTable());
  });

  it('the error-code table is ERROR_CODES and WIRE_ERRORS: one row per code, one column per dialect', () => {
    expect(section('error-table')).toBe(errorCodesMarkdownTable());
    const lines = errorCodesMarkdownTable().split('\n');
    expect(lines).toHaveLength(2 + Object.keys(ERROR_CODES).length);
    expect(DIALECTS.map((d) => d.name)).toEqual(['huawei', 'aws', 'tencent']);
    expect(lines[0]).toBe('| code | fault | HTTP status | Huawei code | AWS code | Tencent code | message |');
    expect(lines).toContain('| `DECRYPT_MATERIAL_FAILED` | client | 400 | `KMS.2310` | `InvalidCiphertextException` | `InvalidParameter.DecryptMaterialError` | The encrypted key material could not be decrypted. |');
  });

  it('the operations table is every dialect\'s operations, their fields and the fields they ignore', () => {
    expect(section('operations-table')).toBe(operationsMarkdownTable());
    const lines = operationsMarkdownTable().split('\n');
    expect(lines).toHaveLength(2 + DIALECTS.reduce((n, d) => n + d.operations.length, 0));
    expect(lines.find((l) => l.startsWith('| tencent | `GenerateDataKey` |'))).toMatch(/\*\*KeyId\*\*.*EncryptionContext.*\| .*Tags \(tags are not stored/);
  });
});
