/** Wycheproof RsaesOaepDecrypt and RsaesPkcs1Decrypt files, through KatOperations.rsaesDecrypt. */
import { fromHex } from '../bytes.js';
import { judgeCase } from './outcome.js';
import type { KatCaseResult, KatSchemaRunner } from './types.js';

interface RsaesCase { tcId: number; msg: string; ct: string; label?: string; result: string }
interface RsaesGroup { privateKeyPkcs8: string; sha?: string; mgfSha?: string; tests: RsaesCase[] }
interface RsaesFile { schema: string; testGroups: RsaesGroup[] }

function isSchema(file: unknown, schema: string): file is RsaesFile {
  return typeof file === 'object' && file !== null && (file as { schema?: unknown }).schema === schema
    && Array.isArray((file as { testGroups?: unknown }).testGroups);
}

export const rsaesOaepRunner: KatSchemaRunner = {
  schema: 'RsaesOaepDecrypt',
  matches: (file) => isSchema(file, 'rsaes_oaep_decrypt_schema_v1.json'),
  async run(file, ops) {
    const out: KatCaseResult[] = [];
    for (const group of (file as RsaesFile).testGroups) {
      const key = fromHex(group.privateKeyPkcs8);
      for (const t of group.tests) {
        const params = { padding: 'oaep' as const, hash: group.sha ?? '', mgf1Hash: group.mgfSha ?? '', label: fromHex(t.label ?? '') };
        out.push(await judgeCase(`tcId ${t.tcId}`, t.result, t.msg, () => ops.rsaesDecrypt(key, params, fromHex(t.ct))));
      }
    }
    return out;
  },
};

export const rsaesPkcs1Runner: KatSchemaRunner = {
  schema: 'RsaesPkcs1Decrypt',
  matches: (file) => isSchema(file, 'rsaes_pkcs1_decrypt_schema_v1.json'),
  async run(file, ops) {
    const out: KatCaseResult[] = [];
    for (const group of (file as RsaesFile).testGroups) {
      const key = fromHex(group.privateKeyPkcs8);
      for (const t of group.tests) {
        out.push(await judgeCase(`tcId ${t.tcId}`, t.result, t.msg, () => ops.rsaesDecrypt(key, { padding: 'pkcs1v15' }, fromHex(t.ct))));
      }
    }
    return out;
  },
};
