/**
 * `npm run bench` / `byok bench [--quick]`: throughput of the import core against the machine's
 * limit measured in the same run (`openssl speed`, one core's RSA key generation), with the
 * issue's targets as ratios; the same over HTTP against the real `byok serve` (service-load.ts);
 * ops/s against requests in flight and against workers as an SVG (plot.ts). Writes JSON, the SVG
 * and benny's charts under bench/results/. Speed is reported, never asserted. Its output has no
 * terminal control codes (benny's progress display is replaced by plain lines).
 * `--memory N` runs only the memory section, over N imports; `--profile DIR` only the profiled
 * rows of the missed targets (profile-rows.ts).
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import b from 'benny';
import smCrypto from 'sm-crypto';
import { rsaUnwrap } from '../src/algorithms/rsa/rsa-unwrap.js';
import { parseSm2PrivateKey } from '../src/algorithms/sm2/index.js';
import { type WrappingAlgorithm, type WrappingKeySpec } from '../src/algorithms/specs.js';
import { createPureBackend, type PureBackend } from '../src/backends/pure/pure-backend.js';
import type { WrappingKeyPair } from '../src/backends/crypto-backend.js';
import { generateEngineKeys } from '../src/config/key-files.js';
import { openEngine } from '../src/open-engine.js';
import { TokenSealer } from '../src/token/import-token.js';
import { opensslRsa, opensslSm2, rsaKeyGeneration, type OpensslAnchor } from './anchors.js';
import { alternating } from './alternate-anchor.js';
import { measurePkcs11Unwrap } from './pkcs11-unwrap.js';
import { sm2Rows } from './sm2-bench.js';
import { svgChart, type Series } from './plot.js';
import { concurrentRate, importLanes, spread, wrapFor } from './import-lanes.js';
import { runProfiles } from './profile-rows.js';
import { createKeys, getParametersRequests, metric, prepareImports, processCpuSeconds, runLoad, startService, waitForPool } from './service-load.js';

interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: { readonly name: string; readonly value: number };
  readonly target?: string;
}


function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}





/**
 * A reference and a measurement in alternating short windows, so that load from other
 * processes hits both sides of the ratio alike (this machine is shared; sequential windows drifted):
 * the reference `op` on `inFlight` lanes, then the measured lanes, each lane running its own op.
 */
async function interleaved(reference: { inFlight: number; op: () => unknown }, lanes: Array<() => Promise<unknown>>, rounds: number, window: number) {
  const r = await alternating(rounds, () => concurrentRate(window, reference.inFlight, async () => reference.op()),
    [() => concurrentRate(window, lanes.length, (i) => lanes[i % lanes.length]!())]);
  return { reference: r.anchor, measured: r.figures[0]! };
}

export async function runBenchmarks(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const outDir = option('--out') ?? 'bench/results';
  const memoryOnly = option('--memory') !== undefined ? Number(option('--memory')) : undefined;
  mkdirSync(outDir, { recursive: true });
  const cores = availableParallelism();
  const seconds = quick ? 1 : 3;
  const caseTime = quick ? 0.4 : 3;
  const rows: Row[] = [];
  let failed = false as boolean;
  const log = (s: string) => process.stdout.write(s + '\n');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // Other processes share this machine: the load is part of every figure.
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  const loadAtStart = load();
  log(`# ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cores}, load average at start: ${loadAtStart}`);
  const keys = generateEngineKeys();
  const material = new Uint8Array(randomBytes(32));
  const dir = mkdtempSync(join(tmpdir(), 'byok-bench-'));
  // benny's own progress display redraws the terminal: plain lines instead.
  const plainCycle = b.cycle((result: { name: string; ops: number; margin: number }) => {
    log(`  ${result.name}: ${result.ops.toFixed(0)} ops/s ±${result.margin.toFixed(2)}%`);
    return undefined;
  });
  const anchor: Record<string, OpensslAnchor> = {};
  const sweeps: { inProcessInFlight: Series[]; inProcessWorkers: Series[]; serviceInFlight: Series[]; serviceWorkers: Series[] } = {
    inProcessInFlight: [], inProcessWorkers: [], serviceInFlight: [], serviceWorkers: [],
  };

  if (option('--profile') !== undefined) {
    await runProfiles({ outDir: option('--profile')!, dataDir: dir, keys, seconds: quick ? 1 : 3, log });
    rmSync(dir, { recursive: true, force: true });
    log(`\nload average at start: ${loadAtStart}; at end: ${load()}`);
    return 0;
  }
  if (memoryOnly !== undefined) {
    await memorySection(memoryOnly);
    return report();
  }

  // 1. The machine's limit, in this run.
  log(`# anchors (openssl speed, ${seconds}s each; RSA-2048 key generation on one core)`);
  for (const bits of (quick ? [2048] : [2048, 3072, 4096]) as Array<2048 | 3072 | 4096>) anchor[`rsa${bits}`] = opensslRsa(bits, seconds);
  anchor.rsa2048multi = opensslRsa(2048, seconds, cores);
  anchor.sm2 = opensslSm2(seconds);
  anchor.rsa2048keygen = rsaKeyGeneration(2048, seconds, quick ? 2 : 8);
  for (const a of Object.values(anchor)) log(`${a.what}${a.processes > 1 ? ` (-multi ${a.processes})` : ''}: ${a.opsPerSecond.toFixed(a.opsPerSecond < 100 ? 1 : 0)}`);

  // 2. Unwrap per algorithm × key spec, pure backend on one thread (benny).
  const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
  const specs: WrappingKeySpec[] = quick ? ['RSA_2048', 'SM2'] : ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'];
  const pairs = new Map<WrappingKeySpec, WrappingKeyPair>();
  for (const s of specs) pairs.set(s, await backend.generateWrappingKeyPair(s));
  const combos = specs.flatMap((keySpec) => (keySpec === 'SM2' ? ['SM2_ENCRYPT'] : ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'])
    .map((algorithm) => ({ keySpec, algorithm: algorithm as WrappingAlgorithm })));
  const fixtures = new Map(combos.map((c) => [`${c.algorithm}/${c.keySpec}`, Array.from({ length: 16 }, () => wrapFor(pairs.get(c.keySpec)!, c.algorithm, material))]));
  const unwrapOnce = (pure: PureBackend, c: { keySpec: WrappingKeySpec; algorithm: WrappingAlgorithm }, i: number) =>
    pure.unwrapMaterial({
      keySpec: c.keySpec, algorithm: c.algorithm, materialSpec: 'AES_256', privateKeyBlob: pairs.get(c.keySpec)!.privateKeyBlob,
      ciphertext: fixtures.get(`${c.algorithm}/${c.keySpec}`)![i % 16], cacheKey: `bench-${c.keySpec}`, cacheUntil: Date.now() + 3_600_000,
    }).then((h) => pure.release(h));
  const smPriv = Buffer.from(parseSm2PrivateKey(pairs.get('SM2')!.privateKeyBlob).d).toString('hex');
  const smHex = Buffer.from(fixtures.get('SM2_ENCRYPT/SM2')![0].subarray(1)).toString('hex');
  let n = 0;
  const unwrapSummary = await b.suite(
    'unwrap (pure backend, one thread)',
    b.configure({ cases: { maxTime: caseTime, minSamples: 5 } }),
    ...combos.map((c) => b.add(`${c.algorithm} ${c.keySpec}`, async () => unwrapOnce(backend, c, n++))),
    b.add('sm-crypto doDecrypt SM2 (reference)', () => {
      smCrypto.sm2.doDecrypt(smHex, smPriv, 1, { output: 'array' });
    }),
    plainCycle,
    b.save({ file: `unwrap-${stamp}`, folder: outDir, format: 'json' }),
    b.save({ file: `unwrap-${stamp}`, folder: outDir, format: 'chart.html' }),
  );
  const ops = (name: string) => unwrapSummary.results.find((r) => r.name === name)?.ops ?? 0;
  // The RSA rows against `openssl speed` of the same size, in alternating windows (alternate-anchor.ts);
  // benny's figures above stay in its JSON and chart.
  const anchorRounds = quick ? 1 : 3;
  log(`# RSA unwrap against openssl speed, interleaved: ${anchorRounds} rounds of openssl speed (1 s) then each algorithm (1 s)`);
  for (const keySpec of specs.filter((s) => s !== 'SM2')) {
    const mine = combos.filter((c) => c.keySpec === keySpec);
    const bits = Number(keySpec.slice(4)) as 2048 | 3072 | 4096;
    const m = await alternating(anchorRounds, () => opensslRsa(bits, 1).opsPerSecond, mine.map((c) => () => concurrentRate(quick ? 0.3 : 1, 1, (i) => unwrapOnce(backend, c, i))));
    for (const [i, c] of mine.entries()) {
      rows.push({ name: `unwrap ${c.algorithm} ${keySpec}, 1 thread`, value: m.figures[i]!, unit: 'ops/s',
        reference: { name: `${anchor[`rsa${bits}`]!.what} (interleaved, ${anchorRounds} rounds)`, value: m.anchor },
        ...(c.algorithm === 'RSAES_OAEP_SHA_256' && keySpec === 'RSA_2048' ? { target: '>= 0.90' } : {}) });
    }
  }
  rows.push({ name: 'unwrap SM2_ENCRYPT SM2, 1 thread', value: ops('SM2_ENCRYPT SM2'), unit: 'ops/s', reference: { name: anchor.sm2.what, value: anchor.sm2.opsPerSecond }, target: '>= 0.25' });
  rows.push({ name: 'unwrap SM2 vs sm-crypto doDecrypt', value: ops('SM2_ENCRYPT SM2'), unit: 'ops/s', reference: { name: 'sm-crypto doDecrypt', value: ops('sm-crypto doDecrypt SM2 (reference)') }, target: '>= 10' });
  // SM2 against OpenSSL's own decrypt and key generation, a C loop built in this run.
  rows.push(...await sm2Rows(backend, { rounds: quick ? 2 : 10, window: quick ? 0.15 : 0.5, log }));

  // 3. All cores: the worker pool, one KeyObject per worker, the key blob sent once per worker.
  const pooled = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)), workers: cores });
  const c2048 = { keySpec: 'RSA_2048' as const, algorithm: 'RSAES_OAEP_SHA_256' as const };
  await concurrentRate(0.3, cores * 4, (i) => unwrapOnce(pooled, c2048, i)); // warm the workers' caches
  const pooledVsMulti = await alternating(anchorRounds, () => opensslRsa(2048, 1, cores).opsPerSecond, [() => concurrentRate(quick ? 0.3 : 1, cores * 4, (i) => unwrapOnce(pooled, c2048, i))]);
  rows.push({ name: `unwrap RSAES_OAEP_SHA_256 RSA_2048, ${cores} workers`, value: pooledVsMulti.figures[0]!, unit: 'ops/s',
    reference: { name: `${anchor.rsa2048multi.what} -multi ${cores} (interleaved, ${anchorRounds} rounds)`, value: pooledVsMulti.anchor }, target: '>= 0.90' });

  // 4. Tokens: seal (issue) and verify (open: the MAC and the claims; the sealed key stays sealed) on one core.
  const sealer = new TokenSealer(keys.tokenSealing);
  const claims = { tenant: 't', keyId: '00000000-0000-0000-0000-000000000000', algorithm: 'RSAES_OAEP_SHA_256' as const, keySpec: 'RSA_2048' as const, materialSpec: 'AES_256' as const, issuedAt: 1, expiresAt: 2 };
  const token = sealer.seal(claims, pairs.get('RSA_2048')!.privateKeyBlob);
  const tokenSummary = await b.suite('import tokens', b.configure({ cases: { maxTime: caseTime, minSamples: 5 } }),
    b.add('issue (seal)', () => {
      sealer.seal(claims, pairs.get('RSA_2048')!.privateKeyBlob);
    }),
    b.add('verify (open)', () => {
      sealer.open(token);
    }),
    b.add('verify and open the sealed key', () => {
      const t = sealer.open(token);
      void t.privateKeyBlob;
      t.dispose();
    }),
    plainCycle,
    b.save({ file: `tokens-${stamp}`, folder: outDir, format: 'json' }));
  rows.push({ name: 'token issue', value: tokenSummary.results[0].ops, unit: 'ops/s' });
  rows.push({ name: 'token verify (MAC and claims; the key stays sealed)', value: tokenSummary.results[1].ops, unit: 'ops/s', target: '>= 200000/s' });
  rows.push({ name: 'token verify and open the sealed key (a worker without the key parsed)', value: tokenSummary.results[2].ops, unit: 'ops/s' });

  // 5. getParametersForImport latency, warm pool vs empty pool.
  const calls = quick ? 8 : 40;
  const latency = async (poolDepth: number) => {
    const engine = await openEngine({ dataDir: join(dir, `gp-${poolDepth}`), keys, wrappingKeyPoolTargets: poolDepth ? { RSA_2048: poolDepth } : undefined });
    await engine.wrappingKeyPool?.refill();
    const key = await engine.createKey({ tenant: 't' });
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await engine.getParametersForImport({ tenant: 't', keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
      times.push(performance.now() - t0);
    }
    await engine.close();
    return times.sort((x, y) => x - y);
  };
  const warm = await latency(calls + 4);
  const cold = await latency(0);
  rows.push({ name: 'getParametersForImport p50, warm pool', value: percentile(warm, 50), unit: 'ms', target: '<= 1 ms' });
  rows.push({ name: 'getParametersForImport p99, warm pool', value: percentile(warm, 99), unit: 'ms', target: '<= 5 ms' });
  rows.push({ name: 'getParametersForImport p50, empty pool', value: percentile(cold, 50), unit: 'ms' });
  rows.push({ name: 'getParametersForImport p99, empty pool', value: percentile(cold, 99), unit: 'ms' });

  // 6. The whole importKeyMaterial (token verify + reservation + unwrap + commitment + seal + durable SQLite commit) vs the raw unwrap.
  const rawKey = createPrivateKey({ key: Buffer.from(pairs.get('RSA_2048')!.privateKeyBlob), format: 'der', type: 'pkcs8' });
  const rawCts = fixtures.get('RSAES_OAEP_SHA_256/RSA_2048')!;
  let m = 0;
  const rawUnwrap = { inFlight: 1, op: () => rsaUnwrap(rawKey, { kind: 'oaep', hash: 'sha256' }, rawCts[m++ % 16], 32).fill(0) };
  const pooledRaw = { inFlight: cores * 4, op: () => unwrapOnce(pooled, c2048, m++) };
  const rounds = quick ? 2 : 10;
  const window = quick ? 0.25 : 0.6;
  const tokensPerEngine = quick ? 4 : 16; // each costs an RSA key generation to set up
  const inline = await openEngine({ dataDir: join(dir, 'import'), keys });
  const inlineLanes = await importLanes(inline, tokensPerEngine, material);
  await interleaved(rawUnwrap, inlineLanes, 1, 0.2); // warm up
  const seq = await interleaved(rawUnwrap, inlineLanes.slice(0, 1), rounds, window);
  rows.push({ name: 'importKeyMaterial, whole, 1 in flight, one thread (on disk before each answer)', value: seq.measured, unit: 'ops/s', reference: { name: 'raw rsaUnwrap (cached KeyObject)', value: seq.reference } });
  const inFlights = quick ? [4] : [16, 32];
  for (const f of inFlights) {
    const r = await interleaved(rawUnwrap, spread(inlineLanes, f), rounds, window);
    rows.push({ name: `importKeyMaterial, whole, ${f} in flight, one thread (group commit)`, value: r.measured, unit: 'ops/s', reference: { name: 'raw rsaUnwrap (cached KeyObject)', value: r.reference }, target: '>= 0.90' });
  }
  await inline.close();
  const oneWorker = await openEngine({ dataDir: join(dir, 'import-1w'), keys, workers: 1 });
  const oneWorkerLanes = await importLanes(oneWorker, tokensPerEngine, material);
  await interleaved(rawUnwrap, oneWorkerLanes, 1, 0.2);
  const w1 = await interleaved(rawUnwrap, spread(oneWorkerLanes, quick ? 4 : 32), rounds, window);
  rows.push({ name: `importKeyMaterial, whole, ${quick ? 4 : 32} in flight, RSA on 1 worker thread`, value: w1.measured, unit: 'ops/s', reference: { name: 'raw rsaUnwrap (cached KeyObject)', value: w1.reference } });
  await oneWorker.close();
  // The service's configuration: RSA on every core's worker, token/SQLite on the main thread.
  const all = await openEngine({ dataDir: join(dir, 'import-pooled'), keys, workers: cores });
  const allLanes = await importLanes(all, tokensPerEngine, material);
  await interleaved(pooledRaw, spread(allLanes, cores * 4), 1, 0.3);
  let inProcess16 = 0;
  for (const f of inFlights) {
    const r = await interleaved(pooledRaw, spread(allLanes, f), rounds, window);
    if (f === 16 || quick) inProcess16 = r.measured;
    rows.push({ name: `importKeyMaterial, whole, ${f} in flight, ${cores} workers`, value: r.measured, unit: 'ops/s', reference: { name: `pooled unwrap, ${cores} workers (${cores * 4} in flight)`, value: r.reference }, target: '>= 0.90' });
  }

  // 7. In-process sweeps for the picture: in flight (all workers), then workers (32 in flight).
  const point = quick ? 0.3 : 1.5;
  const flightPoints = quick ? [1, 4] : [1, 2, 4, 8, 16, 32, 64];
  const sweepFlight: Array<[number, number]> = [];
  for (const f of flightPoints) {
    const lanes = spread(allLanes, f);
    sweepFlight.push([f, await concurrentRate(point, f, (i) => lanes[i % f]())]);
  }
  await all.close();
  sweeps.inProcessInFlight.push({ name: `in-process, ${cores} workers`, points: sweepFlight });
  const sweepWorkers: Array<[number, number]> = [];
  for (let w = 1; w <= cores; w++) {
    const engine = await openEngine({ dataDir: join(dir, `sweep-w${w}`), keys, workers: w });
    const lanes = spread(await importLanes(engine, quick ? 4 : 16, material), quick ? 8 : 32);
    await concurrentRate(0.2, lanes.length, (i) => lanes[i % lanes.length]());
    sweepWorkers.push([w, await concurrentRate(point, lanes.length, (i) => lanes[i % lanes.length]())]);
    await engine.close();
  }
  sweeps.inProcessWorkers.push({ name: `in-process, ${quick ? 8 : 32} in flight`, points: sweepWorkers });
  log(`in-process sweeps: in flight ${JSON.stringify(sweepFlight.map(([x, y]) => [x, Math.round(y)]))}, workers ${JSON.stringify(sweepWorkers.map(([x, y]) => [x, Math.round(y)]))}`);

  // 8. Over HTTP: `byok serve` on SQLite, the load generator in its own process.
  if (!argv.includes('--no-service')) {
    await serviceSection(inProcess16).catch((e: unknown) => {
      failed = true;
      log(`service rows failed: ${(e as Error).message}`);
    });
  }
  await pooled.close();

  // 9. Memory after many imports.
  await memorySection(option('--imports') !== undefined ? Number(option('--imports')) : quick ? 500 : 100_000);
  await backend.close();

  // 10. PKCS#11 (SoftHSM2), when installed: our unwrap vs a raw pkcs11js loop on the same token.
  if (!argv.includes('--no-pkcs11')) {
    const p11 = await measurePkcs11Unwrap(quick ? 1 : 3, () => undefined);
    if (p11) rows.push({ name: 'PKCS#11 unwrap OAEP-SHA1 RSA-2048 (SoftHSM2)', value: p11.ours, unit: 'ops/s', reference: { name: 'raw pkcs11js C_UnwrapKey loop', value: p11.raw }, target: '>= 0.90' });
    else log('PKCS#11 rows skipped: SoftHSM2 is not installed');
  }
  return report();

  async function serviceSection(inProcess: number): Promise<void> {
    const duration = quick ? 1 : 3;
    const connections = quick ? 4 : 16;
    const keyCount = quick ? 2 : 16;
    const pool = quick ? connections : 48;
    const base = ['--keygen-workers', String(cores)];
    let svc = await startService(join(dir, 'svc'), ['--workers', String(cores), '--key-pool', String(pool), ...base]);
    try {
      const keyIds = await createKeys(svc.url, keyCount);
      const imports = await prepareImports(svc.url, keyIds, 8);
      // Both default specs (RSA_2048, SM2) pooled: full means no key generation under the imports.
      await waitForPool(svc.url, 2 * pool, 180_000);
      await runLoad(svc.url, { mode: 'replay', requests: imports, connections, duration: 0.5 }); // warm up
      const cpu0 = await processCpuSeconds(svc.pid);
      const alone = await runLoad(svc.url, { mode: 'replay', requests: imports, connections, duration });
      const cpuPerImport = ((await processCpuSeconds(svc.pid)) - cpu0) / alone.completed * 1000;
      // The load generator shares the same cores: its CPU per request is the rest of the arithmetic.
      const clientCpu = alone.cpuMicroseconds / alone.completed / 1000;
      rows.push({ name: `over HTTP: import-key-material, ${connections} in flight (p50 ${alone.p50} ms, p99 ${alone.p99} ms; service CPU ${cpuPerImport.toFixed(2)} ms per import, load generator CPU ${clientCpu.toFixed(2)} ms per request)`, value: alone.requestsPerSecond, unit: 'ops/s',
        reference: { name: `in-process whole import, ${connections} in flight, ${cores} workers (above)`, value: inProcess }, target: '>= 0.80' });
      const flight: Array<[number, number]> = [];
      for (const c of flightPoints) flight.push([c, (await runLoad(svc.url, { mode: 'replay', requests: imports, connections: c, duration: quick ? 0.3 : 1.5 })).requestsPerSecond]);
      sweeps.serviceInFlight.push({ name: `over HTTP, ${cores} workers`, points: flight });
      log(`service in-flight sweep: ${JSON.stringify(flight.map(([x, y]) => [x, Math.round(y)]))}`);
      // get-parameters-for-import with a warm pool: as many requests as pooled pairs.
      await waitForPool(svc.url, 2 * pool, 180_000);
      const depth = await metric(svc.url, 'byok_wrapping_key_pool_depth');
      const onDemand0 = await metric(svc.url, 'byok_wrapping_key_pool_on_demand_total');
      const gp = await runLoad(svc.url, { mode: 'replay', requests: getParametersRequests(keyIds), connections, amount: Math.max(connections, Math.floor(pool * 0.9)) });
      const onDemand = (await metric(svc.url, 'byok_wrapping_key_pool_on_demand_total')) - onDemand0;
      rows.push({ name: `over HTTP: get-parameters-for-import, warm pool (${depth} pairs of RSA_2048 and SM2; ${onDemand} generated on demand), ${connections} in flight, p50 ${gp.p50} ms, p99 ${gp.p99} ms`, value: gp.requestsPerSecond, unit: 'ops/s' });
      // A sustained stream of full cycles: the pool refilled from every core, the imports beside it.
      const cycleSeconds = quick ? 1 : 10;
      // Fresh keys: the load generator wraps material of its own, which keys imported above would refuse (KMS.2314).
      const cycleKeys = await createKeys(svc.url, keyCount);
      const cycle = await runLoad(svc.url, { mode: 'cycle', keyIds: cycleKeys, connections, duration: cycleSeconds });
      const cycles = (cycle.statuses['200'] ?? 0) / 2 / cycle.seconds;
      if (cycle.refusals.length) log(`full cycles, refused: ${cycle.refusals.join(' | ')}`);
      rows.push({ name: `over HTTP: full cycles (get parameters, wrap, import) for ${cycleSeconds} s, ${connections} in flight, pool refilled by ${cores} key-generation workers (p50 ${cycle.p50} ms, p99 ${cycle.p99} ms; statuses ${JSON.stringify(cycle.statuses)})`, value: cycles, unit: 'ops/s',
        reference: { name: `${cores} x one core's RSA-2048 key generation`, value: cores * anchor.rsa2048keygen.opsPerSecond }, target: '>= 0.90' });
    } finally {
      await svc.stop();
    }
    // Workers sweep over HTTP: a fresh service per worker count, no pool refilling beside it (not in the smoke run).
    const byWorkers: Array<[number, number]> = [];
    for (let w = 1; w <= (quick ? 0 : cores); w++) {
      svc = await startService(join(dir, `svc-w${w}`), ['--workers', String(w), '--key-pool', '0']);
      try {
        const keyIds = await createKeys(svc.url, keyCount);
        const imports = await prepareImports(svc.url, keyIds, 8);
        await runLoad(svc.url, { mode: 'replay', requests: imports, connections: 32, duration: 0.5 });
        byWorkers.push([w, (await runLoad(svc.url, { mode: 'replay', requests: imports, connections: 32, duration: quick ? 0.5 : 1.5 })).requestsPerSecond]);
      } finally {
        await svc.stop();
      }
    }
    if (byWorkers.length) sweeps.serviceWorkers.push({ name: 'over HTTP, 32 in flight', points: byWorkers });
    log(`service workers sweep: ${JSON.stringify(byWorkers.map(([x, y]) => [x, Math.round(y)]))}`);
  }

  /** Imports with RSA on one worker; heap and RSS before and after, each after a full GC when --expose-gc. */
  async function memorySection(imports: number): Promise<void> {
    const engine = await openEngine({ dataDir: join(dir, 'memory'), keys, workers: 1 });
    const lanes = spread(await importLanes(engine, quick ? 4 : 16, material), quick ? 4 : 32);
    await Promise.all(lanes.map((next) => next()));
    global.gc?.();
    const before = process.memoryUsage();
    const t0 = performance.now();
    let started = 0;
    let done = 0;
    // A reading every tenth of the run: flat means flat throughout, not only at the ends.
    const every = Math.max(1, Math.floor(imports / 10));
    await Promise.all(lanes.map(async (next) => {
      while (started < imports) {
        started++;
        await next();
        if (++done % every === 0) {
          const u = process.memoryUsage();
          log(`memory: ${done} imports in ${((performance.now() - t0) / 1000).toFixed(0)} s, heap ${(u.heapUsed / 2 ** 20).toFixed(1)} MiB, RSS ${(u.rss / 2 ** 20).toFixed(1)} MiB`);
        }
      }
    }));
    const took = (performance.now() - t0) / 1000;
    global.gc?.();
    const after = process.memoryUsage();
    const gc = global.gc ? 'after a full GC' : 'no --expose-gc: without a forced GC';
    rows.push({ name: `heap used after ${imports} imports in ${took.toFixed(0)} s (before: ${(before.heapUsed / 2 ** 20).toFixed(1)} MiB; ${gc})`, value: after.heapUsed / 2 ** 20, unit: 'MiB' });
    rows.push({ name: `RSS after ${imports} imports (before: ${(before.rss / 2 ** 20).toFixed(1)} MiB)`, value: after.rss / 2 ** 20, unit: 'MiB' });
    await engine.close();
  }

  function report(): number {
    rmSync(dir, { recursive: true, force: true });
    log('');
    log(`| measurement | value | reference (same run) | ratio | target |`);
    log(`| --- | --- | --- | --- | --- |`);
    for (const r of rows) {
      const ratio = r.reference && r.reference.value ? (r.value / r.reference.value).toFixed(2) : '';
      log(`| ${r.name} | ${r.value.toFixed(r.unit === 'ops/s' && r.value >= 100 ? 0 : r.unit === 'ops/s' ? 1 : 2)} ${r.unit} | ${r.reference ? `${r.reference.name}: ${r.reference.value.toFixed(r.reference.value < 100 ? 1 : 0)}` : ''} | ${ratio} | ${r.target ?? ''} |`);
    }
    const loadAtEnd = load();
    log(`\nload average at start: ${loadAtStart}; at end: ${loadAtEnd}`);
    const file = join(outDir, `bench-${stamp}.json`);
    writeFileSync(file, JSON.stringify({
      date: new Date().toISOString(), quick, node: process.version, cpu: cpus()[0]?.model, cores, loadAverage: { start: loadAtStart, end: loadAtEnd }, anchors: anchor, rows, sweeps,
    }, null, 2));
    log(`\nwrote ${file}`);
    if (failed) process.exitCode = 1;
    if (sweeps.inProcessInFlight.length) {
      const svg = join(outDir, `bench-${stamp}.svg`);
      writeFileSync(svg, svgChart([
        { title: 'whole import: ops/s against requests in flight', xLabel: 'requests in flight', yLabel: 'imports/s', logX: true, series: [...sweeps.inProcessInFlight, ...sweeps.serviceInFlight] },
        { title: 'whole import: ops/s against workers', xLabel: 'worker threads', yLabel: 'imports/s', series: [...sweeps.inProcessWorkers, ...sweeps.serviceWorkers] },
      ], `byok bench ${new Date().toISOString().slice(0, 16)}Z, ${cpus()[0]?.model ?? 'cpu'} x${cores}, load ${loadAtStart} -> ${loadAtEnd}; RSA-2048 OAEP-SHA-256, SQLite, durable`));
      log(`wrote ${svg}`);
    }
    return 0;
  }
}

if (process.argv[1]?.endsWith('bench/run.js')) {
  runBenchmarks(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
