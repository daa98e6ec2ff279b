/**
 * Timing-leak harness (`npm run bench:ct`), after noble-curves' benchmark/ct.ts and the Marvin
 * toolkit's probe classes: for PKCS#1 v1.5 and OAEP, encoded blocks of each class are made and
 * raw-RSA-encrypted (RSA_NO_PADDING) under one RSA-2048 key, then timed interleaved (a shuffled
 * class order every round, many samples each, process.hrtime.bigint) for (a) the decoder alone,
 * (b) the whole unwrap (raw RSA + the decoder, as the import path runs it) and (c) the envelope
 * imports (Huawei's two fields and the RSA_AES_KEY_WRAP single blob, through unwrapImport on the
 * pure backend) with 2 KiB and 6 KiB second layers: an RSA part with bad padding (or a valid
 * one around a key of the wrong length) against an RSA part that is fine and a key wrap that is
 * not. A Welch t-test of each class against the suite's reference failure class; |t| > 4.5
 * between two failure classes flags a difference (dudect's threshold). Valid vs failure differs
 * by design (a failure throws, and the outcome is the API's public answer), so it is reported,
 * not flagged. A self-check runs the same on a deliberately early-returning decoder, which must
 * be flagged, so a quiet result means something.
 *
 * Exit 1 (both modes; `--quick` is CI's, test/bench-ct.test.ts) when the self-check is not
 * flagged or a real class stays flagged: a flagged suite is measured again, up to twice, with
 * twice the samples each time, and only a flag in every run fails (shared machines are noisy).
 * `--pkcs11` adds the envelope suites on a throw-away SoftHSM2 token, reported only (advisory).
 */
import { constants, createHash, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { loadavg } from 'node:os';
import { oaepDecodeExpectLength } from '../src/algorithms/rsa/oaep-decode.js';
import { mgf1 } from '../src/algorithms/rsa/mgf1.js';
import { pkcs1v15DecodeExpectLength } from '../src/algorithms/rsa/pkcs1v15-decode.js';
import { rsaUnwrap } from '../src/algorithms/rsa/rsa-unwrap.js';
import { aesKwpWrap } from '../src/algorithms/aes-kwp.js';
import type { WrappingAlgorithm } from '../src/algorithms/specs.js';
import { createPureBackend } from '../src/backends/pure/pure-backend.js';
import type { CryptoBackend } from '../src/backends/crypto-backend.js';
import { createPkcs11Backend } from '../src/backends/pkcs11/index.js';
import { unwrapImport, type ImportShape } from '../src/engine/material-unwrap.js';
import { throwAwaySoftHsmToken } from './softhsm-token.js';

const K = 256;
const MLEN = 32;
const THRESHOLD = 4.5;
/**
 * And the difference must be at least this fraction of the reference's mean time: with tens of
 * thousands of samples a 2 ns artifact of one class's buffers (0.1% of a 1.5 µs decoder) reaches
 * |t| > 20 on a loaded machine, far below anything observable. The leaks this harness exists for
 * were 1% (OAEP's wrong length, 3 µs of 270 µs) to 100% (the envelope's skipped key wrap).
 */
const MIN_EFFECT = 0.005;

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

export interface SuiteResult { suite: string; reference: string; rows: Array<{ klass: string; meanNs: number; t: number; tVsReference: number; flagged: boolean }> }
const REFERENCE = 'no structure';

/** A run of `op` that is awaited only when it is asynchronous (the decoders stay synchronous). */
type Op = (input: Uint8Array) => void | Promise<void>;

/**
 * Time `op` on each class's inputs, interleaved: every round visits the classes in a fresh
 * random order and times `batch` calls on one input of each. Each failure class is compared
 * with `reference` (flagged at |t| > THRESHOLD) and, where the suite has one, with "valid".
 */
async function measure(suite: string, inputs: Blocks, op: Op, samples: number, batch: number, reference = REFERENCE): Promise<SuiteResult> {
  const classes = Object.keys(inputs);
  const times: Record<string, number[]> = Object.fromEntries(classes.map((c) => [c, []]));
  const run = async (x: Uint8Array) => {
    const pending = op(x);
    if (pending) await pending;
  };
  // Warm-up: every class through the same code, so the JIT state is shared.
  for (let i = 0; i < Math.min(200, samples); i++) for (const c of classes) await run(inputs[c][i % inputs[c].length]);
  for (let s = 0; s < samples; s++) {
    for (const c of shuffle([...classes])) {
      const pool = inputs[c];
      const x = pool[s % pool.length];
      const t0 = process.hrtime.bigint();
      for (let b = 0; b < batch; b++) await run(x);
      times[c].push(Number(process.hrtime.bigint() - t0) / batch);
    }
  }
  const valid = times.valid ? crop(times.valid) : undefined;
  const ref = crop(times[reference]);
  const refMean = stats(ref).mean;
  return {
    suite,
    reference,
    rows: classes.map((c) => {
      const xs = crop(times[c]);
      const t = c === 'valid' || !valid ? 0 : welchT(xs, valid);
      const tRef = c === reference ? 0 : welchT(xs, ref);
      const meanNs = stats(xs).mean;
      const effect = Math.abs(meanNs - refMean) / refMean;
      // Success vs failure is the public outcome (the API answers it); the oracle would be one
      // failure class told from another, so only those comparisons are flagged.
      return { klass: c, meanNs, t, tVsReference: tRef, flagged: c !== 'valid' && Math.abs(tRef) > THRESHOLD && effect >= MIN_EFFECT };
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
  const hasValid = r.rows.some((row) => row.klass === 'valid');
  for (const row of r.rows) {
    const vsValid = hasValid ? `   t vs valid ${row.t.toFixed(2).padStart(8)}` : '';
    process.stdout.write(`  ${row.klass.padEnd(34)} ${row.meanNs.toFixed(0).padStart(9)} ns${vsValid}   t vs ${r.reference} ${row.tVsReference.toFixed(2).padStart(8)}${row.flagged ? '   <-- |t| > 4.5' : ''}\n`);
  }
}

/** A suite, measured with a given number of samples. */
interface Suite {
  readonly name: string;
  readonly samples: number;
  run(samples: number): Promise<SuiteResult>;
}

const RETRIES = 2;

/**
 * Measure a suite until it gives the answer it must (self-check: flagged; real: not), at most
 * 1 + RETRIES times, doubling the samples each time. Returns every run (the last one decides).
 */
async function settle(suite: Suite, mustFlag: boolean, json: boolean): Promise<{ runs: SuiteResult[]; ok: boolean }> {
  const runs: SuiteResult[] = [];
  for (let attempt = 0, samples = suite.samples; attempt <= RETRIES; attempt++, samples *= 2) {
    const r = await suite.run(samples);
    runs.push(r);
    if (!json) {
      if (attempt > 0) process.stdout.write(`\n(measured again, ${samples} samples per class)`);
      print(r);
    }
    if (r.rows.some((x) => x.flagged) === mustFlag) return { runs, ok: true };
  }
  return { runs, ok: false };
}

/**
 * The envelope imports' inputs for one shape and second-layer size: the RSA part (OAEP-SHA-256
 * of the temporary key) with bad padding or valid around a 16-byte key, against a valid one
 * whose key wrap does not open. The second layer is RFC 5649 output of `layer` bytes.
 */
function envelopeInputs(publicKey: KeyObject, hash: 'sha256' | 'sha1', shape: 'two-field' | 'single-blob', layer: number, perClass: number): { heads: Blocks; layers: Blocks } {
  const oaepOf = (m: Uint8Array) => new Uint8Array(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, m));
  const make = (klass: string) => {
    const temporaryKey = randomBytes(32);
    const wrapOfRightSize = aesKwpWrap(temporaryKey, randomBytes(layer - 8));
    switch (klass) {
      case 'RSA ok, key wrap bad': return { head: oaepOf(temporaryKey), layer: new Uint8Array(randomBytes(layer)) };
      case 'RSA part bad padding': return { head: encryptRaw(publicKey, Buffer.concat([Buffer.of(0), randomBytes(K - 1)])), layer: wrapOfRightSize };
      case 'RSA part valid, 16-byte key': return { head: oaepOf(randomBytes(16)), layer: wrapOfRightSize };
      default: throw new Error(`unknown class ${klass}`);
    }
  };
  const heads: Blocks = {};
  const layers: Blocks = {};
  for (const klass of ENVELOPE_CLASSES) {
    const made = Array.from({ length: perClass }, () => make(klass));
    heads[klass] = made.map((m) => (shape === 'single-blob' ? Buffer.concat([m.head, m.layer]) : m.head));
    layers[klass] = made.map((m) => m.layer);
  }
  return { heads, layers };
}
const ENVELOPE_CLASSES = ['RSA ok, key wrap bad', 'RSA part bad padding', 'RSA part valid, 16-byte key'];

/**
 * The envelope imports through the engine's unwrapImport on `backend`, with the wrapping key
 * cached as the engine caches it: two fields and single blob, 2 and 6 KiB second layers. Every
 * class fails; the time must not say whether the RSA part was valid.
 */
async function envelopeSuites(backend: CryptoBackend, hash: 'sha256' | 'sha1', samples: number, where: string): Promise<Suite[]> {
  const pair = await backend.generateWrappingKeyPair('RSA_2048');
  const wrappingPublicKey = createPublicKey({ key: Buffer.from(pair.publicKeySpki), format: 'der', type: 'spki' });
  const cacheUntil = Date.now() + 3600_000;
  const suites: Suite[] = [];
  for (const shape of ['two-field', 'single-blob'] as const satisfies readonly ImportShape[]) {
    for (const layer of [2048, 6144]) {
      const algorithm: WrappingAlgorithm = shape === 'two-field'
        ? (hash === 'sha256' ? 'RSAES_OAEP_SHA_256' : 'RSAES_OAEP_SHA_1')
        : (hash === 'sha256' ? 'RSA_AES_KEY_WRAP_SHA_256' : 'RSA_AES_KEY_WRAP_SHA_1');
      // Fresh inputs every run; the second layer of a two-field input is found by its RSA part.
      const layerOf = new Map<Uint8Array, Uint8Array>();
      const op = async (ciphertext: Uint8Array) => {
        let accepted = false;
        try {
          await unwrapImport(backend, shape, {
            algorithm, keySpec: 'RSA_2048', materialSpec: 'RSA_4096', privateKeyBlob: pair.privateKeyBlob, ciphertext,
            ...(shape === 'two-field' ? { encryptedPrivateKey: layerOf.get(ciphertext) } : {}), cacheKey: 'bench', cacheUntil,
          });
          accepted = true;
        } catch { /* every class fails: the failure is what is timed */ }
        if (accepted) throw new Error('an envelope probe was accepted');
      };
      const name = `${shape === 'two-field' ? 'two fields (Huawei encrypted_privatekey)' : `single blob (${algorithm})`}, ${layer / 1024} KiB second layer, whole envelope unwrap${where}`;
      const run = (n: number) => {
        const { heads, layers } = envelopeInputs(wrappingPublicKey, hash, shape, layer, 16);
        layerOf.clear();
        for (const c of ENVELOPE_CLASSES) heads[c].forEach((h, i) => layerOf.set(h, layers[c][i]));
        return measure(name, heads, op, n, 1, ENVELOPE_CLASSES[0]);
      };
      suites.push({ name, samples, run });
    }
  }
  return suites;
}

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const perClass = 16;
  const decoderSamples = quick ? 1500 : 20_000;
  const unwrapSamples = quick ? 150 : 2_500;
  const envelopeSamples = quick ? 150 : 2_000;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  // Every run of a suite gets fresh inputs, so that an artifact of one set of buffers does not
  // follow a suite into its re-measurement.
  const pkcs1Blocks = (): Blocks => Object.fromEntries(PKCS1_CLASSES.map((c) => [c, Array.from({ length: perClass }, () => pkcs1Class(c))]));
  const oaepBlocks = (): Blocks => Object.fromEntries(OAEP_CLASSES.map((c) => [c, Array.from({ length: perClass }, () => oaepClass(c))]));
  const encrypted = (blocks: Blocks): Blocks => Object.fromEntries(Object.entries(blocks).map(([c, ems]) => [c, ems.map((em) => encryptRaw(publicKey, em))]));
  const pkcs1 = pkcs1Blocks();
  const oaep = oaepBlocks();

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

  // Decoders alone: without this, capturing the thrown error's stack (~10 µs, the same for every
  // failure) drowns a ~0.1–1 µs decoder. The whole-unwrap and envelope suites run with stacks as deployed.
  const noStacks = (run: (samples: number) => Promise<SuiteResult>) => async (samples: number) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return await run(samples);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
  const selfCheck: Suite = {
    name: 'self-check: early-returning PKCS#1 v1.5 decoder (must be flagged)', samples: decoderSamples,
    run: noStacks((n) => measure(selfCheck.name, pkcs1Blocks(), (em) => swallow(() => leakyPkcs1Decode(em, K, MLEN)), n, 20)),
  };
  const suites: Suite[] = [
    { name: 'PKCS#1 v1.5 decoder alone (pkcs1v15DecodeExpectLength)', samples: decoderSamples, run: noStacks((n) => measure(suites[0].name, pkcs1Blocks(), (em) => swallow(() => pkcs1v15DecodeExpectLength(em, K, MLEN)), n, 20)) },
    { name: 'OAEP decoder alone (oaepDecodeExpectLength, SHA-256)', samples: decoderSamples, run: noStacks((n) => measure(suites[1].name, oaepBlocks(), (em) => swallow(() => oaepDecodeExpectLength(em, K, { hash: 'sha256', mgf1Hash: 'sha256' }, MLEN)), n, 5)) },
    { name: 'PKCS#1 v1.5 whole unwrap (raw RSA + decoder)', samples: unwrapSamples, run: (n) => measure(suites[2].name, encrypted(pkcs1Blocks()), (c) => swallow(() => rsaUnwrap(privateKey, { kind: 'pkcs1v15' }, c, MLEN)), n, 1) },
    { name: 'OAEP whole unwrap (raw RSA + decoder, SHA-256)', samples: unwrapSamples, run: (n) => measure(suites[3].name, encrypted(oaepBlocks()), (c) => swallow(() => rsaUnwrap(privateKey, { kind: 'oaep', hash: 'sha256' }, c, MLEN)), n, 1) },
  ];

  // The envelope imports through the engine's unwrapImport on the pure backend (inline).
  const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
  suites.push(...(await envelopeSuites(backend, 'sha256', envelopeSamples, '')));
  // Opt-in, advisory (reported, never failing): the same on SoftHSM2, whose own C_UnwrapKey
  // is not ours to make constant-time (it makes an object only on success).
  const advisory: Suite[] = [];
  let device: CryptoBackend | undefined;
  if (argv.includes('--pkcs11')) {
    const token = throwAwaySoftHsmToken('ct');
    if (!token) throw new Error('--pkcs11: SoftHSM2 is not installed');
    device = await createPkcs11Backend({ modulePath: token.module, tokenLabel: token.label, pin: token.pin, sessions: 1 });
    advisory.push(...(await envelopeSuites(device, 'sha1', envelopeSamples, ' on SoftHSM2 (advisory)')));
  }

  if (!json) process.stdout.write(`timing probes: RSA-2048, ${decoderSamples} samples per class (decoders), ${unwrapSamples} (unwrap), ${envelopeSamples} (envelope); Welch t vs "valid" and vs the reference failure class; a failure class is flagged at |t vs reference| > ${THRESHOLD} with a difference of at least ${MIN_EFFECT * 100}% of the reference's mean; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  const check = await settle(selfCheck, true, json);
  const real: Array<{ suite: Suite; runs: SuiteResult[]; ok: boolean }> = [];
  for (const suite of suites) real.push({ suite, ...(await settle(suite, false, json)) });
  const advisoryRuns: SuiteResult[] = [];
  for (const suite of advisory) {
    const r = await suite.run(suite.samples);
    advisoryRuns.push(r);
    if (!json) print(r);
  }
  await backend.close();
  await device?.close();

  if (json) process.stdout.write(JSON.stringify({ quick, decoderSamples, unwrapSamples, envelopeSamples, loadavg: loadavg(), selfCheck: check.runs, results: real.map((r) => r.runs), advisory: advisoryRuns }, null, 2) + '\n');
  process.stdout.write(`\nself-check: ${check.ok ? 'the leaky decoder was flagged (the harness can see a leak)' : 'NOT FLAGGED: the harness cannot see the planted leak'}\n`);
  const flagged = real.filter((r) => !r.ok).flatMap((r) => r.runs[r.runs.length - 1].rows.filter((x) => x.flagged).map((x) => `${r.suite.name}: ${x.klass}`));
  const remeasured = real.filter((r) => r.runs.length > 1 && r.ok).length;
  process.stdout.write(flagged.length === 0
    ? `no class of the real code was flagged${remeasured ? ` (${remeasured} suite(s) flagged at first, quiet when measured again)` : ''}\n`
    : `FLAGGED in every run (${1 + RETRIES}): ${flagged.join('; ')}\n`);
  return check.ok && flagged.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
