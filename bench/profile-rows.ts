/**
 * `byok bench --profile DIR`: the rows whose targets are missed, each run under the V8 CPU
 * profiler of every thread it uses, the `.cpuprofile` files written to DIR and a summary printed
 * per row and thread (cpu-profile-summary.ts): self time by category and the top functions in µs
 * per operation, beside the process's CPU per operation (process.cpuUsage, every thread). The
 * rows: the whole import at 16 and 32 in flight on one thread and on every worker, the pooled
 * unwrap on every worker, and the import over HTTP at 16 in flight (`byok serve --cpu-prof` in
 * its own process, the load generator's own CPU per request beside it).
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createPureBackend } from '../src/backends/pure/pure-backend.js';
import type { EngineKeys } from '../src/config/key-files.js';
import { openEngine } from '../src/open-engine.js';
import { formatSummary, summarizeProfile } from './cpu-profile-summary.js';
import { concurrentRate, importLanes, spread } from './import-lanes.js';
import { createKeys, prepareImports, processCpuSeconds, runLoad, startService } from './service-load.js';
import { ThreadProfiler, type CpuProfile } from './thread-profiler.js';

export interface ProfileOptions {
  readonly outDir: string;
  /** Scratch directory for the engines' and the service's data. */
  readonly dataDir: string;
  readonly keys: EngineKeys;
  readonly seconds: number;
  readonly log: (line: string) => void;
}

const fileName = (row: string) => row.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();

/** Run `op` in flight under every thread's profiler; print and write what each thread did per operation. */
async function profiled(o: ProfileOptions, row: string, unit: string, inFlight: number, op: (i: number) => Promise<unknown>): Promise<void> {
  await concurrentRate(0.3, inFlight, op); // warm: caches filled, code optimized
  const profiler = new ThreadProfiler();
  await profiler.start();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMicroseconds();
  const t0 = performance.now();
  let ops = 0;
  await concurrentRate(o.seconds, inFlight, (i) => op(i).then(() => ops++));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const main = mainThreadCpuMicroseconds() - main0;
  const profiles = await profiler.stop();
  const all = cpu.user + cpu.system;
  o.log(`profile: ${row}: ${ops} ${unit}s, ${(ops / seconds).toFixed(0)}/s under the profiler; CPU per ${unit}: ${(all / ops).toFixed(0)} µs in the process, `
    + `of which the main thread ${(main / ops).toFixed(0)} µs, the other threads ${((all - main) / ops).toFixed(0)} µs (the profiles' busy times below are wall time: a thread the kernel has descheduled still counts)`);
  for (const { thread, profile } of profiles) {
    writeFileSync(join(o.outDir, `${fileName(row)}.${fileName(thread)}.cpuprofile`), JSON.stringify(profile));
    for (const line of formatSummary(thread, summarizeProfile(profile), ops, unit)) o.log(line);
  }
}

/** The main thread's own CPU so far, µs (Linux /proc, 10 ms ticks: read over seconds, not per call). */
function mainThreadCpuMicroseconds(): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

export async function runProfiles(o: ProfileOptions): Promise<void> {
  mkdirSync(o.outDir, { recursive: true });
  const cores = availableParallelism();
  const material = new Uint8Array(randomBytes(32));
  o.log(`# profiles (V8 CPU profiler, 100 µs sampling, ${o.seconds} s per row; .cpuprofile files in ${o.outDir})`);

  const inline = await openEngine({ dataDir: join(o.dataDir, 'profile-inline'), keys: o.keys });
  const inlineLanes = await importLanes(inline, 16, material);
  for (const f of [16, 32]) {
    const lanes = spread(inlineLanes, f);
    await profiled(o, `whole import, ${f} in flight, one thread`, 'import', f, (i) => lanes[i % f]());
  }
  await inline.close();

  const all = await openEngine({ dataDir: join(o.dataDir, 'profile-pooled'), keys: o.keys, workers: cores });
  const allLanes = await importLanes(all, 16, material);
  for (const f of [16, 32]) {
    const lanes = spread(allLanes, f);
    await profiled(o, `whole import, ${f} in flight, ${cores} workers`, 'import', f, (i) => lanes[i % f]());
  }
  await all.close();

  const pooled = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)), workers: cores });
  const pair = await pooled.generateWrappingKeyPair('RSA_2048');
  const publicKey = createPublicKey({ key: Buffer.from(pair.publicKeySpki), format: 'der', type: 'spki' });
  const cts = Array.from({ length: 16 }, () => new Uint8Array(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material)));
  const unwrap = (i: number) => pooled.unwrapMaterial({
    keySpec: 'RSA_2048', algorithm: 'RSAES_OAEP_SHA_256', materialSpec: 'AES_256', privateKeyBlob: pair.privateKeyBlob,
    ciphertext: cts[i % 16], cacheKey: 'profile', cacheUntil: Date.now() + 3_600_000,
  }).then((h) => pooled.release(h));
  await profiled(o, `pooled unwrap, ${cores} workers, ${cores * 4} in flight`, 'unwrap', cores * 4, unwrap);
  await pooled.close();

  await profileService(o, cores);
}

/** `byok serve --cpu-prof`: the profile of each of its threads, cut to the load window. */
async function profileService(o: ProfileOptions, cores: number): Promise<void> {
  const row = 'over HTTP: import-key-material, 16 in flight';
  const profDir = join(o.outDir, fileName(row));
  rmSync(profDir, { recursive: true, force: true });
  mkdirSync(profDir, { recursive: true });
  const svc = await startService(join(o.dataDir, 'profile-svc'), ['--workers', String(cores), '--key-pool', '0'],
    ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '100']);
  let window: { from: number; to: number };
  try {
    const keyIds = await createKeys(svc.url, 16);
    const imports = await prepareImports(svc.url, keyIds, 8);
    await runLoad(svc.url, { mode: 'replay', requests: imports, connections: 16, duration: 0.5 });
    const cpu0 = await processCpuSeconds(svc.pid);
    // The profiles' timestamps are the monotonic clock in µs, as process.hrtime is.
    const from = Number(process.hrtime.bigint() / 1000n);
    const load = await runLoad(svc.url, { mode: 'replay', requests: imports, connections: 16, duration: o.seconds });
    window = { from, to: Number(process.hrtime.bigint() / 1000n) };
    const serviceCpu = ((await processCpuSeconds(svc.pid)) - cpu0) * 1e6;
    o.log(`profile: ${row}: ${load.completed} imports, ${load.requestsPerSecond.toFixed(0)}/s under the profiler (p50 ${load.p50} ms, p99 ${load.p99} ms); `
      + `service CPU ${(serviceCpu / load.completed).toFixed(0)} µs per import, load generator CPU ${(load.cpuMicroseconds / load.completed).toFixed(0)} µs per request`);
    await summarizeServiceOnStop(svc, profDir, window, load.completed, o);
  } catch (e) {
    await svc.stop();
    throw e;
  }
}

async function summarizeServiceOnStop(svc: { stop(): Promise<void> }, profDir: string, window: { from: number; to: number }, imports: number, o: ProfileOptions): Promise<void> {
  // node writes each thread's profile as that thread exits.
  await svc.stop();
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (!files.length) o.log('  (byok serve wrote no .cpuprofile: did it exit cleanly?)');
  for (const f of files) {
    const profile = JSON.parse(readFileSync(join(profDir, f), 'utf8')) as CpuProfile;
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread.
    const tid = f.split('.')[4];
    for (const line of formatSummary(tid === '0' ? 'service main thread' : `service thread ${tid}`, summarizeProfile(profile, window), imports, 'import')) o.log(line);
  }
}
