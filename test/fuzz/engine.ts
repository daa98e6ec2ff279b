/**
 * A small coverage-guided fuzzer for Node, run inside a worker thread by run.ts (the watchdog).
 *
 * Why not Jazzer.js: @jazzer.js/core 4.0.0's only linux-x64 libFuzzer prebuild needs glibc 2.38
 * and GLIBCXX_3.4.32, which Debian 12 (2.36, GCC 12) lacks; the npm tarball ships no C++ source
 * to rebuild, and 2.1.0 downloads its binary from GitHub at install. No other maintained
 * coverage-guided fuzzer for Node is on npm, so this is libFuzzer's loop in ~250 lines: V8's own
 * precise block coverage (node:inspector, Profiler.takePreciseCoverage with call counts) is the
 * feedback, hit counts are bucketed as libFuzzer does, an input that reaches a new
 * (block, bucket) pair joins the corpus, and mutations are libFuzzer's usual set plus a
 * dictionary. Targets keep Jazzer.js's shape (`export function fuzz(data: Buffer)`), so they run
 * unchanged under Jazzer.js where its binary loads.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FuzzTargetModule {
  fuzz(data: Buffer): void | Promise<void>;
  /** Longest input the mutator makes (default 4096). */
  readonly maxLen?: number;
  /** Tokens the mutator splices in (field names, magic bytes). */
  readonly dictionary?: readonly (string | Uint8Array)[];
}

export interface Crash {
  readonly kind: 'exception' | 'timeout' | 'oom';
  readonly input: Buffer;
  readonly message: string;
}

/** Deterministic PRNG (xorshift128+), seeded per run so a run can be repeated. */
export class Rng {
  private s0: bigint;
  private s1: bigint;
  constructor(seed: number) {
    this.s0 = BigInt(seed >>> 0) | 0x9e3779b97f4a7c15n;
    this.s1 = BigInt((seed * 2654435761) >>> 0) ^ 0xbf58476d1ce4e5b9n;
    for (let i = 0; i < 8; i++) this.next32();
  }
  next32(): number {
    let s1 = this.s0;
    const s0 = this.s1;
    this.s0 = s0;
    s1 ^= (s1 << 23n) & 0xffffffffffffffffn;
    this.s1 = s1 ^ s0 ^ (s1 >> 17n) ^ (s0 >> 26n);
    return Number((this.s1 + s0) & 0xffffffffn);
  }
  below(n: number): number {
    return n <= 1 ? 0 : this.next32() % n;
  }
}

const INTERESTING_8 = [0x00, 0x01, 0x02, 0x04, 0x10, 0x1f, 0x20, 0x30, 0x40, 0x7f, 0x80, 0x81, 0x82, 0x83, 0xfe, 0xff];

/** libFuzzer's mutators, stacked 1–4 deep, on a copy. */
export function mutate(rng: Rng, input: Buffer, corpus: readonly Buffer[], dictionary: readonly Buffer[], maxLen: number): Buffer {
  let data = Buffer.from(input);
  const depth = 1 + rng.below(4);
  for (let d = 0; d < depth; d++) {
    const n = data.length;
    switch (rng.below(12)) {
      case 0: // flip one bit
        if (n > 0) data[rng.below(n)] ^= 1 << rng.below(8);
        break;
      case 1: // random byte
        if (n > 0) data[rng.below(n)] = rng.below(256);
        break;
      case 2: // interesting byte (DER tags, lengths, edges)
        if (n > 0) data[rng.below(n)] = INTERESTING_8[rng.below(INTERESTING_8.length)];
        break;
      case 3: { // add/subtract a small delta (length fields)
        if (n > 0) {
          const i = rng.below(n);
          data[i] = (data[i] + (rng.below(2) ? 1 : 255) * (1 + rng.below(4))) & 0xff;
        }
        break;
      }
      case 4: { // erase a range
        if (n > 1) {
          const at = rng.below(n);
          const len = 1 + rng.below(Math.min(16, n - at));
          data = Buffer.concat([data.subarray(0, at), data.subarray(at + len)]);
        }
        break;
      }
      case 5: { // insert random bytes
        const at = rng.below(n + 1);
        const len = 1 + rng.below(8);
        const ins = Buffer.alloc(len);
        for (let i = 0; i < len; i++) ins[i] = rng.below(256);
        data = Buffer.concat([data.subarray(0, at), ins, data.subarray(at)]);
        break;
      }
      case 6: { // duplicate / copy a range elsewhere
        if (n > 1) {
          const from = rng.below(n);
          const len = 1 + rng.below(Math.min(64, n - from));
          const at = rng.below(n + 1);
          data = Buffer.concat([data.subarray(0, at), data.subarray(from, from + len), data.subarray(at)]);
        }
        break;
      }
      case 7: { // overwrite a range with a copy of another range
        if (n > 2) {
          const from = rng.below(n);
          const to = rng.below(n);
          const len = 1 + rng.below(Math.min(32, n - Math.max(from, to)));
          data.copy(data, to, from, from + len);
        }
        break;
      }
      case 8: { // crossover with another corpus entry
        if (corpus.length > 0) {
          const other = corpus[rng.below(corpus.length)];
          const cut = rng.below(n + 1);
          const otherCut = rng.below(other.length + 1);
          data = Buffer.concat([data.subarray(0, cut), other.subarray(otherCut)]);
        }
        break;
      }
      case 9: { // dictionary token, inserted or overwritten
        if (dictionary.length > 0) {
          const tok = dictionary[rng.below(dictionary.length)];
          const at = rng.below(n + 1);
          data = rng.below(2)
            ? Buffer.concat([data.subarray(0, at), tok, data.subarray(at)])
            : Buffer.concat([data.subarray(0, at), tok, data.subarray(Math.min(n, at + tok.length))]);
        }
        break;
      }
      case 10: // truncate
        if (n > 0) data = data.subarray(0, rng.below(n));
        break;
      default: { // 16-bit big-endian length-like value
        if (n > 1) {
          const i = rng.below(n - 1);
          const v = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, n, n - 1, n + 1][rng.below(12)] & 0xffff;
          data.writeUInt16BE(v, i);
        }
      }
    }
  }
  return data.length > maxLen ? data.subarray(0, maxLen) : data;
}

/** libFuzzer's hit-count buckets. */
function bucket(count: number): number {
  if (count <= 3) return count;
  if (count <= 7) return 4;
  if (count <= 15) return 5;
  if (count <= 31) return 6;
  if (count <= 127) return 7;
  return 8;
}

export interface LineCoverage { covered: number; total: number; files: number }

interface CoverageRange { startOffset: number; endOffset: number; count: number }
interface ScriptCoverage { scriptId: string; url: string; functions: Array<{ ranges: CoverageRange[] }> }

/** V8 precise block coverage of the code under test, per execution (counts reset on each take). */
export class CoverageFeedback {
  private readonly session = new Session();
  private readonly seen = new Set<string>();
  /**
   * Per script, the source offsets that have run (1) — the coverage reached. Kept as offsets,
   * not range keys: V8 merges adjacent ranges of equal count, so one block's range key changes
   * with the counts around it.
   */
  private readonly covered = new Map<string, Uint8Array>();
  /** Source characters first run in the last collect() (what a corpus merge keeps an input for). */
  freshCovered = 0;

  constructor(private readonly include: (url: string) => boolean) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  private post(method: string, params?: object): any {
    let out: any;
    let error: Error | null = null;
    let called = false;
    this.session.post(method, params ?? {}, (err, res) => {
      called = true;
      error = err;
      out = res;
    });
    // A same-thread inspector session answers synchronously.
    if (!called) throw new Error(`inspector ${method} did not answer synchronously`);
    if (error) throw error;
    return out;
  }

  /** New features seen since the last call (0 = nothing new). */
  collect(): number {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    let fresh = 0;
    this.freshCovered = 0;
    for (const script of result) {
      if (!this.include(script.url)) continue;
      const before = fresh;
      for (const fn of script.functions) {
        // V8 reports a block only where its count differs from the enclosing range's, so the
        // count-0 ranges are the frontier: a new one means an input got one block further.
        if (fn.ranges.length === 0 || fn.ranges[0].count === 0) continue;
        for (const r of fn.ranges) {
          const key = `${script.url}:${r.startOffset}:${r.endOffset}:${bucket(r.count)}`;
          if (!this.seen.has(key)) {
            this.seen.add(key);
            fresh++;
          }
        }
      }
      // New code can only run where a feature is new, so only then is the script painted.
      if (fresh > before) this.freshCovered += this.paint(script);
    }
    return fresh;
  }

  /**
   * Mark the offsets this execution ran in one script; returns how many were not marked before.
   * A function's range spans its nested functions, which V8 reports as functions of their own
   * (count 0 when they did not run), so every range is painted outermost first and the
   * innermost count wins.
   */
  private paint(script: ScriptCoverage): number {
    const ranges = script.functions.flatMap((fn) => fn.ranges).sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset);
    const end = ranges.reduce((m, r) => Math.max(m, r.endOffset), 0);
    const ran = new Uint8Array(end);
    for (const r of ranges) ran.fill(r.count > 0 ? 1 : 0, r.startOffset, r.endOffset);
    let mask = this.covered.get(script.url);
    if (!mask || mask.length < end) {
      const grown = new Uint8Array(end);
      if (mask) grown.set(mask);
      this.covered.set(script.url, (mask = grown));
    }
    let added = 0;
    for (let i = 0; i < end; i++) {
      if (ran[i] === 1 && mask[i] === 0) {
        mask[i] = 1;
        added++;
      }
    }
    return added;
  }

  get features(): number {
    return this.seen.size;
  }

  /**
   * The coverage reached, in source lines: a line counts when a non-blank character of it has
   * run; the total is the non-blank lines of the files the target reached.
   */
  lines(): LineCoverage {
    let covered = 0;
    let total = 0;
    for (const [url, mask] of this.covered) {
      const source = this.source(url);
      if (source === undefined) continue;
      let offset = 0;
      for (const line of source.split('\n')) {
        if (line.trim() !== '') {
          total++;
          for (let i = 0; i < line.length; i++) {
            if (mask[offset + i] === 1 && line[i] !== ' ' && line[i] !== '\t') {
              covered++;
              break;
            }
          }
        }
        offset += line.length + 1;
      }
    }
    return { covered, total, files: this.covered.size };
  }

  private readonly sources = new Map<string, string | undefined>();

  private source(url: string): string | undefined {
    if (!this.sources.has(url)) {
      try {
        this.sources.set(url, readFileSync(fileURLToPath(url), 'utf8'));
      } catch {
        this.sources.set(url, undefined);
      }
    }
    return this.sources.get(url);
  }

  close(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }
}

export function readCorpus(dir: string): Buffer[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.filter((n) => statSync(join(dir, n)).isFile()).map((n) => readFileSync(join(dir, n)));
}

export function corpusName(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

export function writeCorpusEntry(dir: string, data: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  const name = corpusName(data);
  writeFileSync(join(dir, name), data);
  return name;
}

export interface LoopOptions {
  readonly seconds: number;
  readonly seed: number;
  /** Corpus to start from (committed seeds, plus earlier runs' finds). */
  readonly corpus: Buffer[];
  /** Called before each execution with the input (the watchdog's copy). */
  readonly onInput: (data: Buffer) => void;
  readonly onExec: () => void;
  /** New corpus entries, for saving. */
  readonly onNewEntry: (data: Buffer) => void;
  readonly onCrash: (crash: Crash) => void;
  /** Started before the target module was loaded. */
  readonly coverage: CoverageFeedback;
  /** Stop mutating after the first crash (default false: keep going, dedupe by message). */
  readonly stopOnCrash?: boolean;
}

export interface LoopResult {
  execs: number;
  corpus: number;
  /** (block, hit-count bucket) pairs seen: what steers the loop. */
  features: number;
  /** Source lines run at least once: the coverage reached. */
  lines: LineCoverage;
  crashes: number;
  replayed: number;
  /** Wall time of the mutation phase (after the replay), for executions per second. */
  fuzzMs: number;
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  return `non-Error thrown: ${String(e)}`;
}

/** Replay the corpus, then mutate until the time is up. */
export async function fuzzLoop(target: FuzzTargetModule, options: LoopOptions): Promise<LoopResult> {
  const maxLen = target.maxLen ?? 4096;
  const dictionary = (target.dictionary ?? []).map((t) => (typeof t === 'string' ? Buffer.from(t, 'latin1') : Buffer.from(t)));
  const rng = new Rng(options.seed);
  const coverage = options.coverage;
  const corpus: Buffer[] = [];
  const crashMessages = new Set<string>();
  let execs = 0;
  let crashes = 0;

  const run = async (data: Buffer): Promise<boolean> => {
    options.onInput(data);
    let failed = false;
    try {
      await target.fuzz(data);
    } catch (e) {
      failed = true;
      const message = describeError(e);
      const dedupe = message.split('\n').slice(0, 2).join('\n');
      if (!crashMessages.has(dedupe)) {
        crashMessages.add(dedupe);
        crashes++;
        options.onCrash({ kind: 'exception', input: Buffer.from(data), message });
      }
    }
    execs++;
    options.onExec();
    return failed;
  };

  // Replay: every committed seed must pass; the ones that add coverage form the working corpus.
  const seeds = options.corpus.length > 0 ? options.corpus : [Buffer.alloc(0)];
  for (const seed of seeds) {
    const failed = await run(seed);
    if (coverage.collect() > 0 || corpus.length === 0) {
      if (!failed) corpus.push(seed);
    }
  }
  const replayed = execs;

  const fuzzStarted = Date.now();
  const deadline = fuzzStarted + options.seconds * 1000;
  while (Date.now() < deadline && !(options.stopOnCrash && crashes > 0)) {
    const parent = corpus.length > 0 ? corpus[rng.below(corpus.length)] : Buffer.alloc(0);
    const child = mutate(rng, parent, corpus, dictionary, maxLen);
    const failed = await run(child);
    if (coverage.collect() > 0 && !failed) {
      corpus.push(child);
      options.onNewEntry(child);
    }
  }
  const fuzzMs = Date.now() - fuzzStarted;
  coverage.close();
  return { execs, corpus: corpus.length, features: coverage.features, lines: coverage.lines(), crashes, replayed, fuzzMs };
}

export interface MergeResult { kept: Buffer[]; candidates: number; lines: LineCoverage; features: number }

/**
 * libFuzzer's -merge, by coverage reached: the committed corpus is replayed first (all of it
 * stays: seeds and crash inputs), then the candidates smallest first; a candidate is kept only
 * if it runs a source line nothing before it ran. A long run's bucket-level features would otherwise
 * commit hundreds of near-duplicates.
 */
export async function mergeCorpus(target: FuzzTargetModule, committed: readonly Buffer[], candidates: readonly Buffer[], coverage: CoverageFeedback, onExec: () => void): Promise<MergeResult> {
  const runQuietly = async (data: Buffer): Promise<boolean> => {
    onExec(); // the watchdog's progress counter
    try {
      await target.fuzz(data);
      return true;
    } catch {
      return false; // a crash input is the fuzz run's report, never a corpus entry
    }
  };
  for (const data of committed) {
    await runQuietly(data);
    coverage.collect();
  }
  const known = new Set(committed.map(corpusName));
  const ordered = candidates.filter((c) => !known.has(corpusName(c))).sort((a, b) => a.length - b.length || Buffer.compare(a, b));
  const kept: Buffer[] = [];
  let lines = coverage.lines().covered;
  for (const data of ordered) {
    const ok = await runQuietly(data);
    coverage.collect();
    // Lines, not characters: a new character is often only another branch of a line run before.
    if (coverage.freshCovered === 0) continue;
    const now = coverage.lines().covered;
    if (ok && now > lines) kept.push(data);
    lines = now;
  }
  coverage.close();
  return { kept, candidates: ordered.length, lines: coverage.lines(), features: coverage.features };
}
