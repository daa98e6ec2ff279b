/**
 * Import throughput with one and with two `byok serve` instances on one PostgreSQL database:
 * real processes, driven over HTTP with a fixed number of requests in flight, spread round-robin.
 * Keys, tokens and wrapped material are made before the clock starts; only
 * import-key-material is timed (each key re-imports its same material: one token per key), and
 * no wrapping-key pool refills in the background (--key-pool 0) to compete with it.
 *
 * Run: npm run build && node dist/bench/multi-instance.js --store postgres://USER@HOST/DB
 *        [--keys 60] [--imports-per-key 5] [--concurrency 8] [--workers 1] [--rounds 3]
 * Rounds alternate 1 and 2 instances, so drift in a shared machine's load hits both; medians printed.
 * (or env BYOK_STORE_URL). Keys are made under tenant "bench"; nothing else in the database is touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface Instance {
  readonly url: string;
  readonly child: ChildProcess;
}

const AUTH = { 'content-type': 'application/json', 'x-auth-token': 'bench-token' };

async function startInstance(storeUrl: string, workers: number, env: Record<string, string>, dataDir: string): Promise<Instance> {
  const child = spawn(process.execPath, ['bin/byok.js', 'serve', '--port', '0', '--store', storeUrl, '--data-dir', dataDir,
    '--workers', String(workers), '--key-pool', '0', '--log-level', 'warn'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /byok listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], child });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`byok serve exited (${code}):\n${out}`)));
  });
}

async function call(inst: Instance, action: string, body: unknown): Promise<any> {
  const res = await fetch(`${inst.url}/v1.0/bench/kms/${action}`, { method: 'POST', headers: AUTH, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${action}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface Fixture {
  readonly keyId: string;
  readonly token: string;
  readonly wrapped: string;
}

async function fixtures(instances: Instance[], keys: number): Promise<Fixture[]> {
  return Promise.all(Array.from({ length: keys }, async (_, i) => {
    const inst = instances[i % instances.length];
    const keyId = (await call(inst, 'create-key', { key_alias: `bench-${i}`, key_spec: 'AES_256', origin: 'external' })).key_info.key_id as string;
    const p = await call(inst, 'get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' });
    const pub = createPublicKey({ key: Buffer.from(p.public_key, 'base64'), format: 'der', type: 'spki' });
    const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32)).toString('base64');
    return { keyId, token: p.import_token as string, wrapped };
  }));
}

/** Imports per second with `n` instances. */
async function measure(n: number, opts: { storeUrl: string; keys: number; perKey: number; concurrency: number; workers: number }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'byok-bench-multi-'));
  // Shared by every instance, as in production: the engine keys (the database is the other half).
  const env = {
    BYOK_AUTH_TOKENS: 'bench-token=bench',
    BYOK_MASTER_KEY: randomBytes(32).toString('base64'),
    BYOK_TOKEN_SEALING_KEY: randomBytes(32).toString('base64'),
    BYOK_COMMITMENT_KEY: randomBytes(32).toString('base64'),
  };
  const instances = await Promise.all(Array.from({ length: n }, (_, i) => startInstance(opts.storeUrl, opts.workers, env, join(dir, String(i)))));
  try {
    const fx = await fixtures(instances, opts.keys);
    // Round r imports every key once; the same key's imports land on different instances.
    const jobs = Array.from({ length: opts.keys * opts.perKey }, (_, j) => fx[j % opts.keys]);
    for (let j = 0; j < Math.min(jobs.length, 2 * opts.concurrency); j++) {
      const f = jobs[j]; // warm-up (JIT, connections), not timed
      await call(instances[j % n], 'import-key-material', { key_id: f.keyId, import_token: f.token, encrypted_key_material: f.wrapped });
    }
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: opts.concurrency }, async () => {
      for (let j = next++; j < jobs.length; j = next++) {
        const f = jobs[j];
        await call(instances[j % n], 'import-key-material', { key_id: f.keyId, import_token: f.token, encrypted_key_material: f.wrapped });
      }
    }));
    return jobs.length / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(instances.map((i) => new Promise((r) => {
      i.child.once('exit', r);
      i.child.kill('SIGTERM');
    })));
    rmSync(dir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({
  options: {
    store: { type: 'string' }, keys: { type: 'string', default: '60' }, 'imports-per-key': { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' }, workers: { type: 'string', default: '1' }, rounds: { type: 'string', default: '3' },
  },
});
const storeUrl = values.store ?? process.env.BYOK_STORE_URL;
if (!storeUrl || !/^postgres(ql)?:\/\//.test(storeUrl)) {
  process.stderr.write('usage: node dist/bench/multi-instance.js --store postgres://USER@HOST/DB (or env BYOK_STORE_URL)\n');
  process.exit(2);
}
const opts = { storeUrl, keys: Number(values.keys), perKey: Number(values['imports-per-key']), concurrency: Number(values.concurrency), workers: Number(values.workers) };
const ones: number[] = [];
const twos: number[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  ones.push(await measure(1, opts));
  twos.push(await measure(2, opts));
  console.log(`round ${r + 1}: 1 instance ${ones[r].toFixed(0)}/s, 2 instances ${twos[r].toFixed(0)}/s`);
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const [one, two] = [median(ones), median(twos)];
console.log(`import-key-material (RSA-2048 OAEP-SHA-256 → AES-256), ${opts.keys * opts.perKey} imports per round, ${opts.concurrency} in flight, ${opts.workers} worker(s) per instance, ${availableParallelism()} cores`);
console.log(`1 instance : ${one.toFixed(0)} imports/s (median of ${ones.length})`);
console.log(`2 instances: ${two.toFixed(0)} imports/s (median of ${twos.length}; x${(two / one).toFixed(2)})`);
