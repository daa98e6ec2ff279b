/** Wycheproof RsaesOaepDecrypt and RsaesPkcs1Decrypt files, through KatOperations.rsaesDecrypt. */
import type { RsaesKatParams } from '../backends/kat-operations.js';
import { fromHex } from '../bytes.js';
import { judgeCase } from './outcome.js';
import type { KatCaseResult, KatSchemaRunner } from './types.js';

interface RsaesCase { tcId: number; msg: string; ct: string; label?: string; result: string }
interface RsaesGroup { privateKeyPkcs8: string; sha?: string; mgfSha?: string; tests: RsaesCase[] }
interface RsaesFile { schema: string; testGroups: RsaesGroup[] }

/** One runner per Wycheproof RSAES schema; they differ only in the decrypt parameters. */
function rsaesRunner(schema: string, schemaFile: string, paramsFor: (group: RsaesGroup, test: RsaesCase) => RsaesKatParams): KatSchemaRunner {
  return {
    schema,
    matches: (file) => typeof file === 'object' && file !== null && (file as { schema?: unknown }).schema === schemaFile
      && Array.isArray((file as { testGroups?: unknown }).testGroups),
    async run(file, ops) {
      const out: KatCaseResult[] = [];
      for (const group of (file as RsaesFile).testGroups) {
        const key = fromHex(group.privateKeyPkcs8);
        for (const t of group.tests) {
          out.push(await judgeCase(`tcId ${t.tcId}`, t.result, t.msg, () => ops.rsaesDecrypt(key, paramsFor(group, t), fromHex(t.ct))));
        }
      }
      return out;
    },
  };
}

export const rsaesOaepRunner = rsaesRunner('RsaesOaepDecrypt', 'rsaes_oaep_decrypt_schema_v1.json',
  (group, t) => ({ padding: 'oaep', hash: group.sha ?? '', mgf1Hash: group.mgfSha ?? '', label: fromHex(t.label ?? '') }));

export const rsaesPkcs1Runner = rsaesRunner('RsaesPkcs1Decrypt', 'rsaes_pkcs1_decrypt_schema_v1.json', () => ({ padding: 'pkcs1v15' }));
