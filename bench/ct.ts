/**
 * Timing-leak harness (`npm run bench:ct`), after noble-curves' benchmark/ct.ts and the Marvin
 * toolkit's probe classes: for PKCS#1 v1.5 and OAEP, encoded blocks of each class are made and
 * raw-RSA-encrypted (RSA_NO_PADDING) under one RSA-2048 key, then timed interleaved (a shuffled
 * class order every round, many samples each, process.hrtime.bigint) for (a) the decoder alone
 * and (b) the whole unwrap (raw RSA + the decoder, as the import path runs it). A Welch t-test of each class
 * against "valid" and against "no structure" (Marvin's reference); |t| > 4.5 between two failure
 * classes flags a difference (dudect's threshold). Valid vs failure differs by design (a
 * failure throws, and the outcome is the API's public answer), so it is reported, not flagged. A self-check runs the same
 * on a deliberately early-returning decoder, which must be flagged, so a quiet result means
 * something. Advisory: shared machines are noisy. `--quick` for CI (exit 1 only if the
 * self-check is not flagged).
 */
import { constants, createHash, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { oaepDecodeExpectLength } from '../src/algorithms/rsa/oaep-decode.js';
import { mgf1 } from '../src/algorithms/rsa/mgf1.js';
import { pkcs1v15DecodeExpectLength } from '../src/algorithms/rsa/pkcs1v15-decode.js';
import { rsaUnwrap } from '../src/algorithms/rsa/rsa-unwrap.js';

const K = 256;
const MLEN = 32;
const THRESHOLD = 4.5;

type Blocks = Record<string, Uint8Array[]>;

function nonZero(n: number): Buffer {
  const b = randomBytes(n);
  for (let i = 0; i < n; i++) while (b[i] === 0) b[i] = randomBytes(1)[0];
  return b;
}

/** Marvin's classes for EME-PKCS1-v1_5 (all < n: the first byte is 00 or 01). */
function pkcs1Class(name: string): Uint8Array {
  const m = randomBytes(MLEN);
  const ps = (n: number) => nonZero(n);
  switch (name) {
    case 'valid': return Buffer.concat([Buffer.of(0, 2), ps(K - 3 - MLEN), Buffer.of(0), m]);
    case 'no structure': return Buffer.concat([Buffer.of(0), randomBytes(K - 1)]);
    case 'wrong version byte': return Buffer.concat([Buffer.of(1, 2), ps(K - 3 - MLEN), Buffer.of(0), m]);
    case 'wrong type byte': return Buffer.concat([Buffer.of(0, 1), ps(K - 3 - MLEN), Buffer.of(0), m]);
    case 'no zero separator': return Buffer.concat([Buffer.of(0, 2), ps(K - 2)]);
    case 'short padding string': return Buffer.concat([Buffer.of(0, 2), ps(4), Buffer.of(0), nonZero(K - 7)]);
    case 'wrong material length': return Buffer.concat([Buffer.of(0, 2), ps(K - 3 - 48), Buffer.of(0), randomBytes(48)]);
    default: throw new Error(`unknown class ${name}`);
  }
}
const PKCS1_CLASSES = ['valid', 'no structure', 'wrong version byte', 'wrong type byte', 'no zero separator', 'short padding string', 'wrong material length'];

/** The same idea for EME-OAEP (SHA-256, empty label): each check of RFC 8017 §7.1.2 step 3 broken alone. */
function oaepClass(name: string): Uint8Array {
  const hLen = 32;
  const lHash = createHash('sha256').digest();
  let y = 0;
  let mLen = MLEN;
  let db: Buffer;
  const m = () => randomBytes(mLen);
  switch (name) {
    case 'valid': db = Buffer.concat([lHash, Buffer.alloc(K - MLEN - 2 * hLen - 2), Buffer.of(1), m()]); break;
    case 'no structure': return Buffer.concat([Buffer.of(0), randomBytes(K - 1)]);
    case 'wrong first byte (Y != 0)': y = 1; db = Buffer.concat([lHash, Buffer.alloc(K - MLEN - 2 * hLen - 2), Buffer.of(1), m()]); break;
    case 'wrong label hash': db = Buffer.concat([randomBytes(hLen), Buffer.alloc(K - MLEN - 2 * hLen - 2), Buffer.of(1), m()]); break;
    case 'no 01 separator': db = Buffer.concat([lHash, Buffer.alloc(K - hLen - 1 - hLen)]); break;
    case 'non-zero padding byte': db = Buffer.concat([lHash, Buffer.of(7), Buffer.alloc(K - MLEN - 2 * hLen - 3), Buffer.of(1), m()]); break;
    case 'wrong material length': mLen = 48; db = Buffer.concat([lHash, Buffer.alloc(K - mLen - 2 * hLen - 2), Buffer.of(1), m()]); break;
    default: throw new Error(`unknown class ${name}`);
  }
  const seed = randomBytes(hLen);
  const dbMask = mgf1('sha256', seed, db.length);
  const maskedDb = Buffer.from(db.map((b, i) => b ^ dbMask[i]));
  const seedMask = mgf1('sha256', maskedDb, hLen);
  return Buffer.concat([Buffer.of(y), Buffer.from(seed.map((b, i) => b ^ seedMask[i])), maskedDb]);
}
const OAEP_CLASSES = ['valid', 'no structure', 'wrong first byte (Y != 0)', 'wrong label hash', 'no 01 separator', 'non-zero padding byte', 'wrong material length'];

/** Deliberately variable-time: returns at the first failed check (what the self-check must catch). */
function leakyPkcs1Decode(em: Uint8Array, k: number, expected: number): Uint8Array {
  if (em[0] !== 0 || em[1] !== 2) throw new Error('bad');
  let i = 2;
  while (i < k && em[i] !== 0) i++;
  if (i === k || i - 2 < 8 || k - i - 1 !== expected) throw new Error('bad');
  return em.slice(i + 1);
}

interface Stats { n: number; mean: number; variance: number }

function stats(xs: number[]): Stats {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { n, mean, variance };
}

export function welchT(a: number[], b: number[]): number {
  const x = stats(a);
  const y = stats(b);
  const se = Math.sqrt(x.variance / x.n + y.variance / y.n);
  return se === 0 ? 0 : (x.mean - y.mean) / se;
}

/** Drop the slowest 10% per class (interrupts, GC): dudect-style cropping. */
function crop(xs: number[]): number[] {
  const sorted = [...xs].sort((a, b) => a - b);
  const cut = sorted[Math.floor(sorted.length * 0.9)];
  return xs.filter((x) => x <= cut);
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = randomBytes(4).readUInt32LE() % (i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

export interface SuiteResult { suite: string; rows: Array<{ klass: string; meanNs: number; t: number; tVsNoStructure: number; flagged: boolean }> }
const REFERENCE = 'no structure';

/**
 * Time `op` on each class's inputs, interleaved: every round visits the classes in a fresh
 * random order and times `batch` calls on one input of each.
 */
function measure(suite: string, inputs: Blocks, op: (input: Uint8Array) => void, samples: number, batch: number): SuiteResult {
  const classes = Object.keys(inputs);
  const times: Record<string, number[]> = Object.fromEntries(classes.map((c) => [c, []]));
  // Warm-up: every class through the same code, so the JIT state is shared.
  for (let i = 0; i < Math.min(200, samples); i++) for (const c of classes) op(inputs[c][i % inputs[c].length]);
  for (let s = 0; s < samples; s++) {
    for (const c of shuffle([...classes])) {
      const pool = inputs[c];
      const x = pool[s % pool.length];
      const t0 = process.hrtime.bigint();
      for (let b = 0; b < batch; b++) op(x);
      times[c].push(Number(process.hrtime.bigint() - t0) / batch);
    }
  }
  const valid = crop(times.valid);
  const reference = crop(times[REFERENCE]);
  return {
    suite,
    rows: classes.map((c) => {
      const xs = crop(times[c]);
      const t = c === 'valid' ? 0 : welchT(xs, valid);
      const tRef = c === REFERENCE ? 0 : welchT(xs, reference);
      // Success vs failure is the public outcome (the API answers it); the oracle would be one
      // failure class told from another, so only those comparisons are flagged.
      return { klass: c, meanNs: stats(xs).mean, t, tVsNoStructure: tRef, flagged: c !== 'valid' && Math.abs(tRef) > THRESHOLD };
    }),
  };
}

function swallow(fn: () => unknown): void {
  try {
    fn();
  } catch { /* failures are timed too */ }
}

function encryptRaw(pub: KeyObject, em: Uint8Array): Uint8Array {
  return new Uint8Array(publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, em));
}

function print(r: SuiteResult): void {
  process.stdout.write(`\n${r.suite}\n`);
  for (const row of r.rows) {
    process.stdout.write(`  ${row.klass.padEnd(28)} ${row.meanNs.toFixed(0).padStart(9)} ns   t vs valid ${row.t.toFixed(2).padStart(8)}   t vs no structure ${row.tVsNoStructure.toFixed(2).padStart(8)}${row.flagged ? '   <-- |t| > 4.5' : ''}\n`);
  }
}

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const perClass = 16;
  const decoderSamples = quick ? 1500 : 20_000;
  const unwrapSamples = quick ? 150 : 2_500;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  const pkcs1: Blocks = Object.fromEntries(PKCS1_CLASSES.map((c) => [c, Array.from({ length: perClass }, () => pkcs1Class(c))]));
  const oaep: Blocks = Object.fromEntries(OAEP_CLASSES.map((c) => [c, Array.from({ length: perClass }, () => oaepClass(c))]));
  const pkcs1Ct: Blocks = Object.fromEntries(PKCS1_CLASSES.map((c) => [c, pkcs1[c].map((em) => encryptRaw(publicKey, em))]));
  const oaepCt: Blocks = Object.fromEntries(OAEP_CLASSES.map((c) => [c, oaep[c].map((em) => encryptRaw(publicKey, em))]));

  // Precondition: the "valid" class decodes and every other class is refused (else the probes are wrong).
  for (const [blocks, decode] of [[pkcs1, (em: Uint8Array) => pkcs1v15DecodeExpectLength(em, K, MLEN)], [oaep, (em: Uint8Array) => oaepDecodeExpectLength(em, K, { hash: 'sha256', mgf1Hash: 'sha256' }, MLEN)]] as const) {
    for (const [c, ems] of Object.entries(blocks)) {
      for (const em of ems) {
        let ok = true;
        try { decode(em); } catch { ok = false; }
        if (ok !== (c === 'valid')) throw new Error(`probe class "${c}" is ${ok ? 'accepted' : 'refused'}`);
      }
    }
  }

  const results: SuiteResult[] = [];
  // Decoders alone: without this, capturing the thrown error's stack (~10 µs, the same for every
  // failure) drowns a ~0.1–1 µs decoder. The whole-unwrap suites run with stacks as deployed.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const selfCheck = measure('self-check: early-returning PKCS#1 v1.5 decoder (must be flagged)', pkcs1, (em) => swallow(() => leakyPkcs1Decode(em, K, MLEN)), decoderSamples, 20);
  results.push(selfCheck);
  results.push(measure('PKCS#1 v1.5 decoder alone (pkcs1v15DecodeExpectLength)', pkcs1, (em) => swallow(() => pkcs1v15DecodeExpectLength(em, K, MLEN)), decoderSamples, 20));
  results.push(measure('OAEP decoder alone (oaepDecodeExpectLength, SHA-256)', oaep, (em) => swallow(() => oaepDecodeExpectLength(em, K, { hash: 'sha256', mgf1Hash: 'sha256' }, MLEN)), decoderSamples, 5));
  Error.stackTraceLimit = stackTraceLimit;
  results.push(measure('PKCS#1 v1.5 whole unwrap (raw RSA + decoder)', pkcs1Ct, (c) => swallow(() => rsaUnwrap(privateKey, { kind: 'pkcs1v15' }, c, MLEN)), unwrapSamples, 1));
  results.push(measure('OAEP whole unwrap (raw RSA + decoder, SHA-256)', oaepCt, (c) => swallow(() => rsaUnwrap(privateKey, { kind: 'oaep', hash: 'sha256' }, c, MLEN)), unwrapSamples, 1));

  if (json) process.stdout.write(JSON.stringify({ quick, decoderSamples, unwrapSamples, results }, null, 2) + '\n');
  else {
    process.stdout.write(`timing probes: RSA-2048, ${decoderSamples} samples per class (decoders), ${unwrapSamples} (unwrap); Welch t vs "valid" and vs "no structure"; a failure class is flagged at |t vs no structure| > ${THRESHOLD}\n`);
    for (const r of results) print(r);
  }
  const caught = selfCheck.rows.some((r) => r.flagged);
  process.stdout.write(`\nself-check: ${caught ? 'the leaky decoder was flagged (the harness can see a leak)' : 'NOT FLAGGED: the harness cannot see the planted leak'}\n`);
  const flagged = results.slice(1).flatMap((r) => r.rows.filter((x) => x.flagged).map((x) => `${r.suite}: ${x.klass}`));
  process.stdout.write(flagged.length === 0 ? 'no class of the real decoders was flagged\n' : `flagged (advisory): ${flagged.join('; ')}\n`);
  return caught ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
