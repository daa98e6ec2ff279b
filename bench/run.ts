/**
 * `npm run bench` / `byok bench [--quick]`: throughput of the import core against the machine's
 * limit measured in the same run (`openssl speed`), with the issue's targets as ratios.
 * Writes JSON and benny's charts under bench/results/. Speed is reported, never asserted.
 */
import { constants, createPrivateKey, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import b from 'benny';
import smCrypto from 'sm-crypto';
import { rsaUnwrap } from '../src/algorithms/rsa/rsa-unwrap.js';
import { parseSm2PrivateKey } from '../src/algorithms/sm2/index.js';
import { WRAPPING_ALGORITHMS, type WrappingAlgorithm, type WrappingKeySpec } from '../src/algorithms/specs.js';
import { createPureBackend, type PureBackend } from '../src/backends/pure/pure-backend.js';
import type { WrappingKeyPair } from '../src/backends/crypto-backend.js';
import { generateEngineKeys } from '../src/config/key-files.js';
import { openEngine } from '../src/open-engine.js';
import { TokenSealer } from '../src/token/import-token.js';
import { opensslRsa, opensslSm2, type OpensslAnchor } from './anchors.js';
import { measurePkcs11Unwrap } from './pkcs11-unwrap.js';
import { sm2Rows } from './sm2-bench.js';

interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: { readonly name: string; readonly value: number };
  readonly target?: string;
}

function wrapFor(pair: WrappingKeyPair, algorithm: WrappingAlgorithm, material: Uint8Array): Uint8Array {
  const padding = WRAPPING_ALGORITHMS[algorithm].rsaPadding;
  if (!padding) {
    const point = Buffer.from(pair.publicKeySpki.subarray(pair.publicKeySpki.length - 65)).toString('hex');
    return new Uint8Array(Buffer.from('04' + smCrypto.sm2.doEncrypt(Array.from(material), point, 1), 'hex'));
  }
  const key = createPublicKey({ key: Buffer.from(pair.publicKeySpki), format: 'der', type: 'spki' });
  return new Uint8Array(padding.kind === 'pkcs1v15'
    ? publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, material)
    : publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.hash }, material));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Keep `inFlight` operations running for `seconds`; ops/s. */
async function concurrentRate(seconds: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async (_, w) => {
    for (let i = w; performance.now() < end; i += inFlight) {
      await op(i);
      done++;
    }
  }));
  return done / ((performance.now() - start) / 1000);
}

export async function runBenchmarks(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const outDir = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : 'bench/results';
  mkdirSync(outDir, { recursive: true });
  const cores = availableParallelism();
  const seconds = quick ? 1 : 3;
  const caseTime = quick ? 0.4 : 3;
  const rows: Row[] = [];
  const log = (s: string) => process.stdout.write(s + '\n');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // Other processes share this machine: the load is part of every figure.
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  const loadAtStart = load();
  log(`# ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cores}, load average at start: ${loadAtStart}`);

  // 1. The machine's limit, in this run.
  log(`# anchors (openssl speed, ${seconds}s each)`);
  const anchor: Record<string, OpensslAnchor> = {};
  for (const bits of (quick ? [2048] : [2048, 3072, 4096]) as Array<2048 | 3072 | 4096>) anchor[`rsa${bits}`] = opensslRsa(bits, seconds);
  anchor.rsa2048multi = opensslRsa(2048, seconds, cores);
  anchor.sm2 = opensslSm2(seconds);
  for (const a of Object.values(anchor)) log(`${a.what}${a.processes > 1 ? ` (-multi ${a.processes})` : ''}: ${a.opsPerSecond.toFixed(0)}`);

  // 2. Unwrap per algorithm × key spec, pure backend on one thread (benny).
  const backend = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) });
  const specs: WrappingKeySpec[] = quick ? ['RSA_2048', 'SM2'] : ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'];
  const pairs = new Map<WrappingKeySpec, WrappingKeyPair>();
  for (const s of specs) pairs.set(s, await backend.generateWrappingKeyPair(s));
  const material = new Uint8Array(randomBytes(32));
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
    b.cycle(),
    b.save({ file: `unwrap-${stamp}`, folder: outDir, format: 'json' }),
    b.save({ file: `unwrap-${stamp}`, folder: outDir, format: 'chart.html' }),
  );
  const ops = (name: string) => unwrapSummary.results.find((r) => r.name === name)?.ops ?? 0;
  for (const c of combos) {
    const ref = c.keySpec === 'SM2' ? anchor.sm2 : anchor[`rsa${c.keySpec.slice(4)}`];
    rows.push({ name: `unwrap ${c.algorithm} ${c.keySpec}, 1 thread`, value: ops(`${c.algorithm} ${c.keySpec}`), unit: 'ops/s',
      ...(ref ? { reference: { name: ref.what, value: ref.opsPerSecond } } : {}),
      ...(c.algorithm === 'RSAES_OAEP_SHA_256' && c.keySpec === 'RSA_2048' ? { target: '>= 0.90' } : c.keySpec === 'SM2' ? { target: '>= 0.25' } : {}) });
  }
  rows.push({ name: 'unwrap SM2 vs sm-crypto doDecrypt', value: ops('SM2_ENCRYPT SM2'), unit: 'ops/s', reference: { name: 'sm-crypto doDecrypt', value: ops('sm-crypto doDecrypt SM2 (reference)') }, target: '>= 10' });
  // SM2 against OpenSSL's own decrypt and key generation, a C loop built in this run.
  rows.push(...await sm2Rows(backend, { rounds: quick ? 2 : 10, window: quick ? 0.15 : 0.5, log }));

  // 3. All cores: the worker pool, one KeyObject per worker.
  const pooled = createPureBackend({ masterKey: new Uint8Array(randomBytes(32)), workers: cores });
  const c2048 = { keySpec: 'RSA_2048' as const, algorithm: 'RSAES_OAEP_SHA_256' as const };
  await concurrentRate(0.3, cores * 4, (i) => unwrapOnce(pooled, c2048, i)); // warm the workers' caches
  const pooledUnwrap = await concurrentRate(seconds, cores * 4, (i) => unwrapOnce(pooled, c2048, i));
  rows.push({ name: `unwrap RSAES_OAEP_SHA_256 RSA_2048, ${cores} workers`, value: pooledUnwrap, unit: 'ops/s',
    reference: { name: `${anchor.rsa2048multi.what} -multi ${cores}`, value: anchor.rsa2048multi.opsPerSecond }, target: '>= 0.85' });
  await pooled.close();

  // 4. Tokens: seal (issue) and open (verify) on one core.
  const keys = generateEngineKeys();
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
    b.cycle(),
    b.save({ file: `tokens-${stamp}`, folder: outDir, format: 'json' }));
  rows.push({ name: 'token issue', value: tokenSummary.results[0].ops, unit: 'ops/s' });
  rows.push({ name: 'token verify', value: tokenSummary.results[1].ops, unit: 'ops/s', target: '>= 100000/s' });

  // 5. getParametersForImport latency, warm pool vs empty pool.
  const calls = quick ? 8 : 40;
  const dir = mkdtempSync(join(tmpdir(), 'byok-bench-'));
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

  // 6. The whole importKeyMaterial (token verify + unwrap + commitment + durable SQLite write) vs the raw unwrap.
  // One lane per key (its own token: a token's failure budget also bounds attempts in flight).
  const lanesFor = async (engine: Awaited<ReturnType<typeof openEngine>>, count: number) => Promise.all(Array.from({ length: count }, async () => {
    const key = await engine.createKey({ tenant: 't' });
    const params = await engine.getParametersForImport({ tenant: 't', keyId: key.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
    const spki = { keySpec: 'RSA_2048' as const, publicKeySpki: new Uint8Array(Buffer.from(params.publicKey, 'base64')), privateKeyBlob: new Uint8Array() };
    const cts = Array.from({ length: 16 }, () => Buffer.from(wrapFor(spki, 'RSAES_OAEP_SHA_256', material)).toString('base64'));
    let i = 0;
    return () => engine.importKeyMaterial({ tenant: 't', keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial: cts[i++ % 16] });
  }));
  const rawKey = createPrivateKey({ key: Buffer.from(pairs.get('RSA_2048')!.privateKeyBlob), format: 'der', type: 'pkcs8' });
  const rawCts = fixtures.get('RSAES_OAEP_SHA_256/RSA_2048')!;
  let m = 0;
  const rawUnwrap = () => rsaUnwrap(rawKey, { kind: 'oaep', hash: 'sha256' }, rawCts[m++ % 16], 32).fill(0);
  /**
   * Raw unwrap and import in alternating short windows, so that load from other processes hits
   * both sides of the ratio alike (this machine is shared; sequential windows drifted).
   */
  const interleaved = async (lanes: Array<() => Promise<unknown>>, rounds: number, window: number) => {
    let rawOps = 0, rawTime = 0, importOps = 0, importTime = 0;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      while (performance.now() - t0 < window * 1000) {
        for (let k = 0; k < 8; k++) rawUnwrap();
        rawOps += 8;
      }
      rawTime += performance.now() - t0;
      const t1 = performance.now();
      const end = t1 + window * 1000;
      await Promise.all(lanes.map(async (next) => {
        while (performance.now() < end) {
          await next();
          importOps++;
        }
      }));
      importTime += performance.now() - t1;
    }
    return { raw: rawOps / (rawTime / 1000), whole: importOps / (importTime / 1000) };
  };
  const rounds = quick ? 2 : 10;
  const window = quick ? 0.25 : 0.6;
  const inFlight = quick ? 4 : 16; // each lane costs an RSA key generation to set up
  const engine = await openEngine({ dataDir: join(dir, 'import'), keys });
  const one = await lanesFor(engine, 1);
  const sixteen = await lanesFor(engine, inFlight);
  await interleaved(sixteen, 1, 0.2); // warm up
  const seq = await interleaved(one, rounds, window);
  rows.push({ name: 'importKeyMaterial, whole, 1 in flight (inline; on disk before each answer)', value: seq.whole, unit: 'ops/s', reference: { name: 'raw rsaUnwrap (cached KeyObject)', value: seq.raw } });
  const conc = await interleaved(sixteen, rounds, window);
  rows.push({ name: `importKeyMaterial, whole, ${inFlight} in flight, one thread (inline; group commit)`, value: conc.whole, unit: 'ops/s', reference: { name: 'raw rsaUnwrap (cached KeyObject)', value: conc.raw }, target: '>= 0.85' });
  // RSA on one worker thread, so a commit's fsync (which blocks the main thread) overlaps it.
  const oneWorker = await openEngine({ dataDir: join(dir, 'import-1w'), keys, workers: 1 });
  const oneWorkerLanes = await lanesFor(oneWorker, inFlight * 2);
  await interleaved(oneWorkerLanes, 1, 0.2);
  const w1 = await interleaved(oneWorkerLanes, rounds, window);
  rows.push({ name: `importKeyMaterial, whole, ${inFlight * 2} in flight, RSA on 1 worker thread (group commit)`, value: w1.whole, unit: 'ops/s', reference: { name: 'raw rsaUnwrap (cached KeyObject)', value: w1.raw }, target: '>= 0.85' });
  // The service's configuration: RSA on worker threads, token/SQLite on the main thread.
  const pooledEngine = await openEngine({ dataDir: join(dir, 'import-pooled'), keys, workers: cores });
  const pooledLanes = await lanesFor(pooledEngine, inFlight * 2);
  await concurrentRate(0.3, pooledLanes.length, (i) => pooledLanes[i % pooledLanes.length]());
  const pooledWhole = await concurrentRate(seconds, pooledLanes.length, (i) => pooledLanes[i % pooledLanes.length]());
  rows.push({ name: `importKeyMaterial, whole, ${inFlight * 2} in flight, ${cores} workers`, value: pooledWhole, unit: 'ops/s', reference: { name: `pooled unwrap, ${cores} workers (above)`, value: pooledUnwrap } });
  await pooledEngine.close();

  // 7. Memory after many imports (RSA on one worker, as above): no growth beyond the bounded caches.
  const imports = quick ? 500 : 100_000;
  global.gc?.();
  const before = process.memoryUsage();
  let started = 0;
  await Promise.all(oneWorkerLanes.map(async (next) => {
    while (started < imports) {
      started++;
      await next();
    }
  }));
  global.gc?.();
  const after = process.memoryUsage();
  rows.push({ name: `heap used after ${imports} imports (before: ${(before.heapUsed / 2 ** 20).toFixed(1)} MiB)`, value: after.heapUsed / 2 ** 20, unit: 'MiB' });
  rows.push({ name: `RSS after ${imports} imports (before: ${(before.rss / 2 ** 20).toFixed(1)} MiB)`, value: after.rss / 2 ** 20, unit: 'MiB' });
  await oneWorker.close();
  await engine.close();
  await backend.close();
  rmSync(dir, { recursive: true, force: true });

  // 8. PKCS#11 (SoftHSM2), when installed: our unwrap vs a raw pkcs11js loop on the same token.
  if (!argv.includes('--no-pkcs11')) {
    const p11 = await measurePkcs11Unwrap(quick ? 1 : 3, () => undefined);
    if (p11) rows.push({ name: 'PKCS#11 unwrap OAEP-SHA1 RSA-2048 (SoftHSM2)', value: p11.ours, unit: 'ops/s', reference: { name: 'raw pkcs11js C_UnwrapKey loop', value: p11.raw }, target: '>= 0.90' });
    else log('PKCS#11 rows skipped: SoftHSM2 is not installed');
  }

  // Report.
  log('');
  log(`| measurement | value | reference (same run) | ratio | target |`);
  log(`| --- | --- | --- | --- | --- |`);
  for (const r of rows) {
    const ratio = r.reference && r.reference.value ? (r.value / r.reference.value).toFixed(2) : '';
    log(`| ${r.name} | ${r.value.toFixed(r.unit === 'ops/s' ? 0 : 2)} ${r.unit} | ${r.reference ? `${r.reference.name}: ${r.reference.value.toFixed(0)}` : ''} | ${ratio} | ${r.target ?? ''} |`);
  }
  const loadAtEnd = load();
  log(`\nload average at start: ${loadAtStart}; at end: ${loadAtEnd}`);
  const file = join(outDir, `bench-${stamp}.json`);
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), quick, node: process.version, cpu: cpus()[0]?.model, cores, loadAverage: { start: loadAtStart, end: loadAtEnd }, anchors: anchor, rows,
  }, null, 2));
  log(`\nwrote ${file}`);
  return 0;
}

if (process.argv[1]?.endsWith('bench/run.js')) {
  runBenchmarks(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
