/**
 * The SM2 vector file (vectors/sm2/vectors.json): `vectors` (published, valid) and
 * `derivedNegative` (invalid), each naming its curve from the file's `curves` block, its hash,
 * mode (C1C3C2 | C1C2C3) and encoding (raw | DER). Run through KatOperations.sm2Decrypt.
 */
import { curveFromHex, SM2P256V1, type Sm2CurveParams } from '../algorithms/sm2/curve.js';
import { fromHex } from '../bytes.js';
import { judgeCase } from './outcome.js';
import type { KatCaseResult, KatSchemaRunner } from './types.js';

interface Sm2Vector {
  id: string; privateKey: string; ciphertext: string; message?: string; mode: string; encoding: string;
  curve: string; hash: string; result: string;
}
interface Sm2File {
  curves: Record<string, { p: string; a: string; b: string; gx: string; gy: string; n: string; h?: number }>;
  vectors: Sm2Vector[];
  derivedNegative?: Sm2Vector[];
}

const HASHES: Record<string, 'sm3' | 'sha256'> = { SM3: 'sm3', 'SHA-256': 'sha256' };

export const sm2VectorsRunner: KatSchemaRunner = {
  schema: 'SM2 PKE (GM/T 0003.4)',
  matches: (file) => {
    const f = file as Partial<Sm2File> | null;
    return !!f && typeof f.curves === 'object' && Array.isArray(f.vectors) && f.vectors.every((v) => 'privateKey' in v && 'mode' in v);
  },
  async run(file, ops) {
    const f = file as Sm2File;
    const curves = new Map<string, Sm2CurveParams>();
    for (const [name, c] of Object.entries(f.curves)) {
      // The recommended curve is the engine's own constant object (it selects the fast path).
      const parsed = curveFromHex(name, c);
      const isStandard = parsed.p === SM2P256V1.p && parsed.a === SM2P256V1.a && parsed.b === SM2P256V1.b
        && parsed.gx === SM2P256V1.gx && parsed.gy === SM2P256V1.gy && parsed.n === SM2P256V1.n;
      curves.set(name, isStandard ? SM2P256V1 : parsed);
    }
    const out: KatCaseResult[] = [];
    for (const v of [...f.vectors, ...(f.derivedNegative ?? [])]) {
      const curve = curves.get(v.curve);
      const hash = HASHES[v.hash];
      const mode = v.mode === 'C1C3C2' || v.mode === 'C1C2C3' ? v.mode : undefined;
      const encoding = v.encoding.toLowerCase() === 'der' ? 'der' : v.encoding.toLowerCase() === 'raw' ? 'raw' : undefined;
      if (!curve || !hash || !mode || !encoding) {
        out.push({ id: v.id, status: 'skipped', reason: `cannot run: curve ${v.curve}, hash ${v.hash}, mode ${v.mode}, encoding ${v.encoding}` });
        continue;
      }
      out.push(await judgeCase(v.id, v.result, v.message ?? null, () =>
        ops.sm2Decrypt(fromHex(v.privateKey), fromHex(v.ciphertext), { curve, hash, mode, encoding })));
    }
    return out;
  },
};
