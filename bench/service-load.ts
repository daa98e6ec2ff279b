/**
 * The service under load, for `byok bench`: the real `byok serve` (SQLite, pure backend) in a
 * child process, requests prepared over HTTP beforehand, and the load generator
 * (load-generator.ts, autocannon) in a third process, so the figures are the service's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult, PreparedRequest } from './load-generator.js';

const BYOK_BIN = fileURLToPath(new URL('../../bin/byok.js', import.meta.url));
const LOAD_GENERATOR = fileURLToPath(new URL('./load-generator.js', import.meta.url));
const API_TOKEN = 'bench-token';
const PREFIX = '/v1.0/bench-project/kms';
const HEADERS = { 'x-auth-token': API_TOKEN };

export interface RunningService {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * `byok serve` on a free port with its data in `dataDir`; logs to /dev/null (pino writes them all
 * the same). `nodeArgs` go to node itself (`--cpu-prof` for `byok bench --profile`).
 */
export async function startService(dataDir: string, args: readonly string[], nodeArgs: readonly string[] = []): Promise<RunningService> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, BYOK_BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--rate-limit-import', '0', '--rate-limit-get-parameters', '0', ...args], {
    env: { ...process.env, BYOK_AUTH_TOKENS: `${API_TOKEN}=bench` }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`byok serve did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /byok listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        // From here on its log lines are drained and dropped.
        out = '';
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`byok serve exited (${code}):\n${out}`)));
  });
  return {
    url, pid: child.pid!,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

async function post(url: string, action: string, body: object): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${PREFIX}/${action}`, { method: 'POST', headers: { ...HEADERS, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${action}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** External keys, made through the API. */
export async function createKeys(url: string, count: number): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, async (_, i) => {
    const r = await post(url, 'create-key', { key_alias: `bench-${i}-${randomBytes(4).toString('hex')}`, key_spec: 'AES_256', origin: 'external' });
    return (r.key_info as { key_id: string }).key_id;
  }));
}

/** Prepared imports: per key one token and `perKey` wrappings of its one material (a re-import of the same material succeeds). */
export async function prepareImports(url: string, keyIds: readonly string[], perKey: number): Promise<PreparedRequest[]> {
  const lists = await Promise.all(keyIds.map(async (keyId) => {
    const p = await post(url, 'get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }) as { public_key: string; import_token: string };
    const key = createPublicKey({ key: Buffer.from(p.public_key, 'base64'), format: 'der', type: 'spki' });
    const material = randomBytes(32);
    return Array.from({ length: perKey }, () => ({
      path: `${PREFIX}/import-key-material`,
      body: JSON.stringify({
        key_id: keyId, import_token: p.import_token,
        encrypted_key_material: publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material).toString('base64'),
      }),
    }));
  }));
  // Interleaved, so that consecutive requests go to different keys.
  const out: PreparedRequest[] = [];
  for (let i = 0; i < perKey; i++) for (const l of lists) out.push(l[i]);
  return out;
}

export function getParametersRequests(keyIds: readonly string[]): PreparedRequest[] {
  return keyIds.map((keyId) => ({ path: `${PREFIX}/get-parameters-for-import`, body: JSON.stringify({ key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }) }));
}

/** One load job in the load generator's own process. */
export function runLoad(url: string, job: Omit<LoadJob, 'url' | 'headers' | 'apiPrefix'>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD_GENERATOR], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
    });
    child.stdin.end(JSON.stringify({ ...job, url, headers: HEADERS, apiPrefix: PREFIX } satisfies LoadJob));
  });
}

/** A gauge or counter from the service's /metrics. */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

/** Wait until the service's wrapping-key pool holds at least `depth` pairs (bounded). */
export async function waitForPool(url: string, depth: number, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  let now = 0;
  while (Date.now() < end && (now = await metric(url, 'byok_wrapping_key_pool_depth')) < depth) await new Promise((r) => setTimeout(r, 200));
  return now;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export async function processCpuSeconds(pid: number): Promise<number> {
  const { readFileSync } = await import('node:fs');
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}
