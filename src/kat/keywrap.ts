/**
 * AES key wrap with padding: Wycheproof KeywrapTest (aes_kwp_test.json) and the simple
 * `{tests: [{kek, key, wrapped, result}]}` files (RFC 5649 §6 examples, NIST KWP-AD excerpt).
 */
import { fromHex } from '../bytes.js';
import { judgeCase } from './outcome.js';
import type { KatCaseResult, KatSchemaRunner } from './types.js';

interface WycheproofKwCase { tcId: number; key: string; msg: string; ct: string; result: string }
interface WycheproofKwFile { schema: string; algorithm: string; testGroups: Array<{ tests: WycheproofKwCase[] }> }

export const wycheproofKwpRunner: KatSchemaRunner = {
  schema: 'KeywrapTest (AES-KWP)',
  matches: (file) => {
    const f = file as Partial<WycheproofKwFile> | null;
    return !!f && f.schema === 'keywrap_test_schema_v1.json' && f.algorithm === 'AES-KWP' && Array.isArray(f.testGroups);
  },
  async run(file, ops) {
    const out: KatCaseResult[] = [];
    for (const group of (file as WycheproofKwFile).testGroups) {
      for (const t of group.tests) {
        out.push(await judgeCase(`tcId ${t.tcId}`, t.result, t.msg, () => ops.aesKwpUnwrap(fromHex(t.key), fromHex(t.ct))));
      }
    }
    return out;
  },
};

interface SimpleKwpCase { id?: string; count?: number; plaintextLengthBits?: number; kek: string; key: string | null; wrapped: string; result: string }

export const simpleKwpRunner: KatSchemaRunner = {
  schema: 'KWP {kek, key, wrapped}',
  matches: (file) => {
    const tests = (file as { tests?: unknown } | null)?.tests;
    return Array.isArray(tests) && tests.length > 0 && typeof tests[0] === 'object' && tests[0] !== null
      && 'kek' in tests[0] && 'wrapped' in tests[0];
  },
  async run(file, ops) {
    const out: KatCaseResult[] = [];
    for (const [i, t] of ((file as { tests: SimpleKwpCase[] }).tests).entries()) {
      const id = t.id ?? (t.plaintextLengthBits !== undefined ? `${t.plaintextLengthBits}-bit COUNT ${t.count}` : `#${i}`);
      out.push(await judgeCase(id, t.result, t.key, () => ops.aesKwpUnwrap(fromHex(t.kek), fromHex(t.wrapped))));
    }
    return out;
  },
};
