/**
 * The SM2 vector file (vectors/sm2/vectors.json): `vectors` (published, valid) and
 * `derivedNegative` (invalid), each naming its curve from the file's `curves` block, its hash
 * (SM3, or SHA-256 for the non-standard OpenSSL/Botan variant), its mode (C1C3C2 | C1C2C3) and
 * encoding (raw | DER). Every case runs through KatOperations.sm2Decrypt, the low-level decoder
 * that takes curve and hash as parameters, so the test-curve and SHA-256 vectors run as
 * published. Outcomes are judged by judgeCase (each case starts failed; an unknown `result`
 * stays failed). A case whose parameters the runner does not know is skipped with the reason,
 * never passed.
 */
import { curveFromHex, type Sm2CurveParams } from '../algorithms/sm2/curve.js';
import type { Sm2KatOptions } from '../backends/kat-operations.js';
import { fromHex } from '../bytes.js';
import { judgeCase } from './outcome.js';
import type { KatCaseResult, KatSchemaRunner } from './types.js';

interface Sm2CurveHex { p: string; a: string; b: string; gx: string; gy: string; n: string; h?: number }

interface Sm2Vector {
  id?: unknown; privateKey?: unknown; ciphertext?: unknown; message?: unknown;
  mode?: unknown; encoding?: unknown; curve?: unknown; hash?: unknown; result?: unknown;
}

interface Sm2File {
  curves: Record<string, unknown>;
  vectors: Sm2Vector[];
  derivedNegative?: Sm2Vector[];
}

const HASHES: Record<string, Sm2KatOptions['hash']> = { SM3: 'sm3', 'SHA-256': 'sha256' };
const ENCODINGS: Record<string, Sm2KatOptions['encoding']> = { raw: 'raw', DER: 'der' };
const MODES: Record<string, Sm2KatOptions['mode']> = { C1C3C2: 'C1C3C2', C1C2C3: 'C1C2C3' };

function lookup<T>(table: Record<string, T>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}

function parseCurve(name: string, c: unknown): Sm2CurveParams | undefined {
  const hex = c as Partial<Sm2CurveHex> | null;
  const fields = ['p', 'a', 'b', 'gx', 'gy', 'n'] as const;
  if (!hex || typeof hex !== 'object' || !fields.every((f) => typeof hex[f] === 'string' && /^[0-9a-fA-F]+$/.test(hex[f]!))) return undefined;
  if (hex.h !== undefined && !Number.isInteger(hex.h)) return undefined;
  return curveFromHex(name, hex as Sm2CurveHex);
}

export const sm2VectorsRunner: KatSchemaRunner = {
  schema: 'SM2 PKE (GM/T 0003.4)',
  matches: (file) => {
    const f = file as Partial<Sm2File> | null;
    return !!f && typeof f.curves === 'object' && f.curves !== null && Array.isArray(f.vectors)
      && f.vectors.every((v) => !!v && typeof v === 'object' && 'privateKey' in v && 'mode' in v && 'curve' in v);
  },
  async run(file, ops) {
    const f = file as Sm2File;
    const curves = new Map<string, Sm2CurveParams | undefined>();
    for (const [name, c] of Object.entries(f.curves)) curves.set(name, parseCurve(name, c));
    const out: KatCaseResult[] = [];
    const all = [...f.vectors, ...(Array.isArray(f.derivedNegative) ? f.derivedNegative : [])];
    for (const [index, v] of all.entries()) {
      const id = typeof v.id === 'string' ? v.id : `case ${index}`;
      const curve = typeof v.curve === 'string' ? curves.get(v.curve) : undefined;
      const hash = lookup(HASHES, v.hash);
      const mode = lookup(MODES, v.mode);
      const encoding = lookup(ENCODINGS, v.encoding);
      if (!curve || !hash || !mode || !encoding) {
        const what = [!curve && `curve ${String(v.curve)}`, !hash && `hash ${String(v.hash)}`, !mode && `mode ${String(v.mode)}`, !encoding && `encoding ${String(v.encoding)}`];
        out.push({ id, status: 'skipped', reason: `cannot run: unknown ${what.filter(Boolean).join(', ')}` });
        continue;
      }
      const result = typeof v.result === 'string' ? v.result : String(v.result);
      const message = typeof v.message === 'string' ? v.message : null;
      // Hex decoding happens inside the attempt: a malformed field fails this case, not the run.
      out.push(await judgeCase(id, result, message, () =>
        ops.sm2Decrypt(fromHex(String(v.privateKey)), fromHex(String(v.ciphertext)), { curve, hash, mode, encoding })));
    }
    return out;
  },
};
