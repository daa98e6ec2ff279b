/**
 * `npm run fuzz`: each target under test/fuzz/targets for a fixed time, in a worker thread with
 * a watchdog here (a hang or a heap blow-up ends the worker and saves the input that did it).
 *
 *   node dist/test/fuzz/run.js [--seconds 60] [--target NAME ...] [--seed N] [--timeout-ms 10000]
 *                              [--save-corpus] [--replay-only] [--merge]
 *
 * The committed seeds (test/fuzz/corpus/<target>/) are replayed first and must all pass.
 * New corpus entries go to .fuzz-out/corpus/<target>/ (or into the committed corpus with
 * --save-corpus); crashes to .fuzz-out/crashes/<target>/ with the error printed. Exit code 1
 * if any target crashed, hung or ran out of memory. --merge (no fuzzing) copies into the
 * committed corpus only those .fuzz-out inputs that run a source line the committed corpus does not.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CoverageFeedback, fuzzLoop, mergeCorpus, readCorpus, writeCorpusEntry, type FuzzTargetModule, type LineCoverage, type LoopResult, type MergeResult } from './engine.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (this file runs from dist/test/fuzz/). */
const ROOT = resolve(here, '..', '..', '..');
const COMMITTED_CORPUS = join(ROOT, 'test', 'fuzz', 'corpus');
const OUT = join(ROOT, '.fuzz-out');
const MAX_INPUT = 1 << 16;

interface WorkerArgs {
  readonly target: string;
  /** The module to load (default: targets/<target>.js). */
  readonly modulePath?: string;
  readonly seconds: number;
  readonly seed: number;
  readonly saveCorpus: boolean;
  readonly stopOnCrash?: boolean;
  /** Merge .fuzz-out/corpus/<target> into the committed corpus instead of fuzzing. */
  readonly merge?: boolean;
  readonly shared: SharedArrayBuffer;
}

type WorkerMessage =
  | { type: 'crash'; kind: string; input: string; message: string }
  | { type: 'done'; result: LoopResult }
  | { type: 'merged'; merged: { kept: string[]; candidates: number; lines: LineCoverage; features: number } };

/** Code whose coverage steers the fuzzer: ours, the DER parser we rely on, and the targets. */
function include(url: string): boolean {
  if (url.includes('/dist/src/') || url.includes('/node_modules/asn1js/')) return true;
  return url.includes('/dist/test/fuzz/') && !/\/(engine|run)\.js$/.test(url);
}

async function workerMain(args: WorkerArgs): Promise<void> {
  const header = new Int32Array(args.shared, 0, 2);
  const body = new Uint8Array(args.shared, 8);
  // Coverage starts before the target loads: V8 counts blocks only in code compiled after.
  const coverage = new CoverageFeedback(include);
  const mod = (await import(pathToFileURL(args.modulePath ?? join(here, 'targets', `${args.target}.js`)).href)) as FuzzTargetModule;
  if (args.merge) {
    const m: MergeResult = await mergeCorpus(mod, readCorpus(join(COMMITTED_CORPUS, args.target)), readCorpus(join(OUT, 'corpus', args.target)), coverage, () => Atomics.add(header, 0, 1));
    const kept = m.kept.map((data) => writeCorpusEntry(join(COMMITTED_CORPUS, args.target), data));
    parentPort!.postMessage({ type: 'merged', merged: { kept, candidates: m.candidates, lines: m.lines, features: m.features } } satisfies WorkerMessage);
    return;
  }
  const corpus = [
    ...readCorpus(join(COMMITTED_CORPUS, args.target)),
    ...(args.saveCorpus ? [] : readCorpus(join(OUT, 'corpus', args.target))),
  ];
  const result = await fuzzLoop(mod, {
    seconds: args.seconds,
    seed: args.seed,
    corpus,
    coverage,
    stopOnCrash: args.stopOnCrash,
    onInput: (data) => {
      const n = Math.min(data.length, body.length);
      body.set(data.subarray(0, n));
      Atomics.store(header, 1, n);
    },
    onExec: () => Atomics.add(header, 0, 1),
    onNewEntry: (data) => writeCorpusEntry(join(args.saveCorpus ? COMMITTED_CORPUS : join(OUT, 'corpus'), args.target), data),
    onCrash: (c) => parentPort!.postMessage({ type: 'crash', kind: c.kind, input: c.input.toString('base64'), message: c.message } satisfies WorkerMessage),
  });
  parentPort!.postMessage({ type: 'done', result } satisfies WorkerMessage);
}

export interface TargetReport {
  readonly target: string;
  readonly result?: LoopResult;
  readonly merged?: Extract<WorkerMessage, { type: 'merged' }>['merged'];
  readonly crashes: Array<{ kind: string; input: string; message: string; file: string }>;
}

/** Run one target in a worker under the watchdog. */
export function runTarget(target: string, options: { seconds: number; seed: number; timeoutMs: number; saveCorpus: boolean; heapMb: number; rssMb: number; modulePath?: string; stopOnCrash?: boolean; merge?: boolean }): Promise<TargetReport> {
  const shared = new SharedArrayBuffer(8 + MAX_INPUT);
  const header = new Int32Array(shared, 0, 2);
  const currentInput = () => Buffer.from(new Uint8Array(shared, 8, Atomics.load(header, 1)));
  const crashes: TargetReport['crashes'] = [];
  const record = (kind: string, input: Buffer, message: string) => {
    const file = join(OUT, 'crashes', target, `${kind}-${writeCorpusEntry(join(OUT, 'crashes', target), input)}`);
    crashes.push({ kind, input: input.toString('base64'), message, file });
  };
  return new Promise((resolvePromise) => {
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: { target, modulePath: options.modulePath, seconds: options.seconds, seed: options.seed, saveCorpus: options.saveCorpus, stopOnCrash: options.stopOnCrash, merge: options.merge, shared } satisfies WorkerArgs,
      resourceLimits: { maxOldGenerationSizeMb: options.heapMb },
      stdout: false,
      stderr: false,
    });
    let result: LoopResult | undefined;
    let merged: TargetReport['merged'];
    let finished = false;
    let lastExecs = -1;
    let lastChange = Date.now();
    const watchdog = setInterval(() => {
      const execs = Atomics.load(header, 0);
      if (execs !== lastExecs) {
        lastExecs = execs;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > options.timeoutMs) {
        record('timeout', currentInput(), `no progress for ${options.timeoutMs} ms`);
        void worker.terminate();
      }
      const rss = process.memoryUsage().rss / (1 << 20);
      if (rss > options.rssMb) {
        record('oom', currentInput(), `RSS ${Math.round(rss)} MiB > ${options.rssMb} MiB`);
        void worker.terminate();
      }
    }, 250);
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      resolvePromise({ target, result, merged, crashes });
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'crash') record(m.kind, Buffer.from(m.input, 'base64'), m.message);
      else if (m.type === 'merged') merged = m.merged;
      else result = m.result;
    });
    worker.on('error', (e: Error & { code?: string }) => {
      const kind = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'exception';
      record(kind, currentInput(), `${e.name}: ${e.message}`);
    });
    worker.on('exit', finish);
  });
}

/** Executions per second of the mutation phase (the replay is excluded). */
function execRate(r: LoopResult): string {
  return r.fuzzMs > 0 ? ((r.execs - r.replayed) / (r.fuzzMs / 1000)).toFixed(1) : '-';
}

function formatLines(l: LineCoverage): string {
  return `lines ${l.covered}/${l.total} (${l.total > 0 ? ((100 * l.covered) / l.total).toFixed(1) : '0'}%) in ${l.files} files`;
}

export function listTargets(): string[] {
  return readdirSync(join(here, 'targets')).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
}

/**
 * Proves the loop is coverage-guided: a planted bug behind a 4-byte magic checked one byte at a
 * time (1 in 2^32 for blind random inputs) must be found, and a planted hang must be caught.
 */
async function selftest(seconds: number, seed: number): Promise<number> {
  const budget = Math.max(seconds, 20);
  let ok = true;
  for (const [name, kind] of [['selftest-magic', 'exception'], ['selftest-hang', 'timeout']] as const) {
    const started = Date.now();
    const report = await runTarget(name, { seconds: budget, seed, timeoutMs: 2000, saveCorpus: false, heapMb: 512, rssMb: 3072, modulePath: join(here, `${name}.js`), stopOnCrash: true });
    const found = report.crashes.find((c) => c.kind === kind);
    process.stdout.write(`${name}: ${found ? `found (${kind}) after ${Date.now() - started} ms` : 'NOT FOUND'}${report.result ? `, ${report.result.execs} execs` : ''}\n`);
    ok &&= found !== undefined;
  }
  process.stdout.write(ok ? 'selftest: passed\n' : 'selftest: FAILED\n');
  return ok ? 0 : 1;
}

async function cli(argv: string[]): Promise<number> {
  const targets: string[] = [];
  let seconds = Number(process.env.FUZZ_SECONDS ?? 60);
  let seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff);
  let timeoutMs = 10_000;
  let saveCorpus = false;
  let merge = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') seconds = Number(argv[++i]);
    else if (a === '--target') targets.push(argv[++i]);
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--timeout-ms') timeoutMs = Number(argv[++i]);
    else if (a === '--save-corpus') saveCorpus = true;
    else if (a === '--replay-only') seconds = 0;
    else if (a === '--merge') merge = true;
    else if (a === '--selftest') return selftest(seconds, seed);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run fuzz -- [--seconds N] [--target NAME ...] [--seed N] [--timeout-ms MS] [--save-corpus] [--replay-only] [--merge]\n');
      process.stdout.write(`targets: ${listTargets().join(', ')}\n`);
      return 0;
    } else {
      process.stderr.write(`unknown argument: ${a}\n`);
      return 2;
    }
  }
  if (!Number.isFinite(seconds) || seconds < 0) {
    process.stderr.write('--seconds must be a number >= 0\n');
    return 2;
  }
  const all = listTargets();
  for (const t of targets) {
    if (!all.includes(t)) {
      process.stderr.write(`unknown target ${t}; targets: ${all.join(', ')}\n`);
      return 2;
    }
  }
  if (merge) {
    for (const target of targets.length > 0 ? targets : all) {
      const report = await runTarget(target, { seconds: 0, seed, timeoutMs, saveCorpus: false, heapMb: 1024, rssMb: 3072, merge: true });
      const m = report.merged;
      for (const c of report.crashes) process.stdout.write(`${target}: merge stopped (${c.kind}): ${c.message}\n`);
      process.stdout.write(m ? `${target}: merged ${m.kept.length} of ${m.candidates} new inputs into the corpus (${formatLines(m.lines)}, features ${m.features})${m.kept.map((k) => `\n  + ${k}`).join('')}\n` : `${target}: merge did not finish\n`);
    }
    return 0;
  }
  let failed = 0;
  process.stdout.write(`fuzz: seed ${seed}, ${seconds} s per target\n`);
  for (const target of targets.length > 0 ? targets : all) {
    const report = await runTarget(target, { seconds, seed, timeoutMs, saveCorpus, heapMb: 1024, rssMb: 3072 });
    const r = report.result;
    const line = r
      ? `${target}: ${r.execs} execs (${r.replayed} replayed), ${execRate(r)} exec/s, corpus ${r.corpus}, features ${r.features}, ${formatLines(r.lines)}, crashes ${report.crashes.length}`
      : `${target}: did not finish, crashes ${report.crashes.length}`;
    process.stdout.write(line + '\n');
    for (const c of report.crashes) {
      process.stdout.write(`  CRASH (${c.kind}) saved to ${c.file}\n  input (base64): ${c.input}\n  ${c.message.replace(/\n/g, '\n  ')}\n`);
    }
    if (!r || report.crashes.length > 0) failed++;
  }
  process.stdout.write(failed === 0 ? 'fuzz: no crashes\n' : `fuzz: ${failed} target(s) crashed\n`);
  return failed === 0 ? 0 : 1;
}

if (!isMainThread && workerData && (workerData as WorkerArgs).shared) {
  await workerMain(workerData as WorkerArgs);
} else if (isMainThread && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await cli(process.argv.slice(2));
}
