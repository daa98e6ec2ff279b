/**
 * Abuse of the real service (byok serve as a child process): from a second process on loopback
 * (autocannon, a fixed request count) valid imports mixed with garbage bodies, oversize bodies,
 * wrong-tenant and wrong-key tokens and bad ciphertexts, while raw sockets trickle requests
 * byte by byte (slow clients). Afterwards every valid import is present and correct, the
 * service's RSS is back near its baseline, no response carried a stack or a secret, and no log
 * line written during the test holds material, token or key bytes (hex or base64). Then random
 * X-TC-Action headers leave /metrics bounded (no caller text in a label), and slow sockets
 * (a body a byte a second, headers that never end, silence) are closed by the service's timeouts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapMaterial } from '../../src/client/wrap.js';
import { customerDecrypt } from '../helpers/customer.js';
import { postJson, startService, type RunningService } from '../helpers/service.js';
import { openSlowSockets } from '../helpers/slow-sockets.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-abuse-'));
const alice = { 'x-auth-token': 'alice-token' };
const bob = { 'x-auth-token': 'bob-token' };
let svc: RunningService;
const api = (action: string) => `/v1.0/proj-1/kms/${action}`;
const TIMEOUTS = { requestMs: 20_000, headersMs: 4_000, idleMs: 20_000 };

interface ValidImport { keyId: string; spec: 'AES_256' | 'SM4_128'; material: Buffer; token: string; wrapped: string }
const imports: ValidImport[] = [];
const secrets: string[] = [];

function rssKiB(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
}

/** A secret in every form a log or response could carry it. */
function addSecret(bytes: Uint8Array): void {
  const b = Buffer.from(bytes);
  secrets.push(b.toString('hex'), b.toString('base64'), b.toString('base64url'));
}

beforeAll(async () => {
  // Short timeouts so the slow-socket check below sees them fire; long enough for the load test.
  svc = await startService({
    // The per-tenant rate limits off: the flood is to reach the engine, not the limiter
    // (test/server-rate-limit.test.ts covers the limits).
    dataDir: dir, authTokens: 'alice-token=alice,bob-token=bob', args: ['--key-pool', '1', '--rate-limit-import', '0', '--rate-limit-get-parameters', '0'],
    env: { BYOK_REQUEST_TIMEOUT_MS: String(TIMEOUTS.requestMs), BYOK_HEADERS_TIMEOUT_MS: String(TIMEOUTS.headersMs), BYOK_IDLE_TIMEOUT_MS: String(TIMEOUTS.idleMs) },
  });
  const algorithms = ['SM2_ENCRYPT', 'RSAES_OAEP_SHA_256', 'RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1'];
  for (let i = 0; i < 8; i++) {
    const spec = i % 2 === 0 ? 'AES_256' : 'SM4_128';
    const c = await postJson(`${svc.url}${api('create-key')}`, { key_alias: `abuse-${i}`, key_spec: spec === 'SM4_128' ? 'SM4' : 'AES_256', origin: 'external' }, alice);
    expect(c.status).toBe(200);
    const keyId = c.body.key_info.key_id as string;
    const algorithm = algorithms[i % algorithms.length];
    const p = await postJson(`${svc.url}${api('get-parameters-for-import')}`, { key_id: keyId, wrapping_algorithm: algorithm }, alice);
    expect(p.status).toBe(200);
    const material = randomBytes(spec === 'AES_256' ? 32 : 16);
    const wrapped = Buffer.from(wrapMaterial({ publicKey: p.body.public_key, algorithm, material })).toString('base64');
    imports.push({ keyId, spec, material, token: p.body.import_token, wrapped });
    addSecret(material);
    secrets.push(p.body.import_token, p.body.import_token.slice(40, 120));
  }
  // The engine's own keys (master, token sealing, commitment) are secrets too.
  const keys = JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')) as { master: Array<{ key: string }>; tokenSealing: Array<{ key: string }>; commitment: string };
  for (const k of [...keys.master, ...keys.tokenSealing].map((e) => e.key).concat(keys.commitment)) addSecret(Buffer.from(k, 'base64'));
}, 120_000);

afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Raw sockets that send a request one byte at a time (or never finish their headers). */
function slowClients(url: string, count: number, body: string): { sockets: Socket[]; stop: () => void; answered: () => number } {
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  let answered = 0;
  for (let i = 0; i < count; i++) {
    const s = connect(Number(port), hostname);
    s.on('error', () => {});
    s.on('data', () => void answered++);
    const headersOnly = i % 2 === 1; // slowloris: headers that never end
    const request = headersOnly
      ? `POST ${api('describe-key')} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: alice-token\r\nContent-Type: application/json\r\nX-Padding: ${'a'.repeat(4000)}`
      : `POST ${api('describe-key')} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: alice-token\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    let at = 0;
    timers.push(setInterval(() => {
      if (at < request.length && !s.destroyed) s.write(request[at++]);
    }, 50));
    sockets.push(s);
  }
  return { sockets, answered: () => answered, stop: () => { for (const t of timers) clearInterval(t); for (const s of sockets) s.destroy(); } };
}

function runDriver(config: object): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['test/e2e/abuse-driver.mjs'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(JSON.stringify(config));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`driver exited ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}

describe('abuse of the real service', () => {
  it('survives mixed hostile load: valid imports land, no stack or secret leaks, memory returns, logs hold no secrets', async () => {
    const logStart = svc.output().length;
    // Warm up, then the baseline.
    for (let i = 0; i < 20; i++) await fetch(`${svc.url}/healthz`);
    const baseline = rssKiB(svc.child.pid!);

    const json = { 'content-type': 'application/json' };
    const decoy = await postJson(`${svc.url}${api('create-key')}`, { key_alias: 'decoy', key_spec: 'AES_256', origin: 'external' }, alice);
    const decoyId = decoy.body.key_info.key_id as string;
    const decoyParams = await postJson(`${svc.url}${api('get-parameters-for-import')}`, { key_id: decoyId, wrapping_algorithm: 'SM2_ENCRYPT' }, alice);
    secrets.push(decoyParams.body.import_token);
    const body = (o: unknown) => JSON.stringify(o);
    const requests = [
      ...imports.map((v) => ({ kind: 'valid-import', method: 'POST', path: api('import-key-material'), headers: { ...json, ...alice }, body: body({ key_id: v.keyId, import_token: v.token, encrypted_key_material: v.wrapped }), expect: [200] })),
      // ASCII only: autocannon frames bodies by string length, so multi-byte text would desync it.
      { kind: 'garbage-bytes', method: 'POST', path: api('import-key-material'), headers: { ...json, ...alice }, body: `}{${randomBytes(300).toString('base64')}\u0000`, expect: [400] },
      { kind: 'garbage-json', method: 'POST', path: api('import-key-material'), headers: { ...json, ...alice }, body: '{"key_id": [1,2,{"a":', expect: [400] },
      { kind: 'wrong-types', method: 'POST', path: api('import-key-material'), headers: { ...json, ...alice }, body: body({ key_id: 5, import_token: null, encrypted_key_material: {} }), expect: [400] },
      { kind: 'wrong-tenant', method: 'POST', path: api('import-key-material'), headers: { ...json, ...bob }, body: body({ key_id: imports[0].keyId, import_token: imports[0].token, encrypted_key_material: imports[0].wrapped }), expect: [400, 404] },
      { kind: 'token-for-another-key', method: 'POST', path: api('import-key-material'), headers: { ...json, ...alice }, body: body({ key_id: imports[1].keyId, import_token: imports[0].token, encrypted_key_material: imports[0].wrapped }), expect: [400] },
      { kind: 'bad-ciphertext', method: 'POST', path: api('import-key-material'), headers: { ...json, ...alice }, body: body({ key_id: decoyId, import_token: decoyParams.body.import_token, encrypted_key_material: randomBytes(120).toString('base64') }), expect: [400] },
      { kind: 'no-auth', method: 'POST', path: api('describe-key'), headers: json, body: body({ key_id: imports[0].keyId }), expect: [401] },
      { kind: 'bad-auth', method: 'POST', path: api('describe-key'), headers: { ...json, 'x-auth-token': 'nope' }, body: body({ key_id: imports[0].keyId }), expect: [401] },
      { kind: 'tencent-garbage', method: 'POST', path: '/', headers: { ...json, authorization: 'Bearer alice-token', 'x-tc-action': 'ImportKeyMaterial' }, body: body({ KeyId: imports[0].keyId, ImportToken: 'A'.repeat(300), EncryptedKeyMaterial: 'AAAA' }), expect: [200] },
    ];

    const slow = slowClients(svc.url, 16, body({ key_id: imports[0].keyId }));
    // Oversize bodies (100 KiB, over the 64 KiB limit) from here, alongside the load: the service
    // answers them before reading the body and closes, which would desync autocannon's framing.
    const oversize: number[] = [];
    const oversizeBody = body({ key_id: 'x', pad: 'A'.repeat(100 * 1024) });
    const sendOversize = async () => {
      for (let i = 0; i < 30; i++) {
        const r = await postJson(`${svc.url}${api('import-key-material')}`, oversizeBody, alice).catch(() => ({ status: -1, body: '' }));
        oversize.push(r.status);
        if (/\n\s+at\s|node:internal/.test(JSON.stringify(r.body))) oversize.push(-2);
      }
    };
    const started = Date.now();
    let result: any;
    try {
      [result] = await Promise.all([runDriver({ url: svc.url, amount: 1500, connections: 8, requests, secrets }), sendOversize()]);
      // The service still answers promptly while the slow sockets hang on.
      const t0 = Date.now();
      expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      slow.stop();
    }
    const elapsed = Date.now() - started;

    expect(result.errors + result.timeouts, JSON.stringify(result)).toBe(0);
    // autocannon stops once it has sent `amount`; the last requests in flight are not waited for.
    expect(result.sent).toBeGreaterThanOrEqual(1500);
    expect(result.answered, JSON.stringify(result)).toBeGreaterThanOrEqual(1350);
    expect(result.unexpected, 'responses with a 5xx status').toEqual([]);
    expect(result.leaks, 'responses carrying a stack or a secret').toEqual([]);
    expect(Object.keys(result.statuses).sort(), JSON.stringify(result.statuses)).toEqual(expect.arrayContaining(['200', '400', '401']));
    expect(Object.keys(result.statuses).every((st) => ['200', '400', '401', '404'].includes(st)), JSON.stringify(result.statuses)).toBe(true);
    expect(oversize.length).toBe(30);
    expect(oversize.every((st) => st === 400 || st === 413), `oversize answers: ${oversize.join(',')}`).toBe(true);
    // Each hostile kind on its own gets its documented answer (and the valid ones succeed again:
    // a re-import of the same material is accepted).
    for (const r of requests) {
      const res = await postJson(`${svc.url}${r.path}`, r.body, r.headers as Record<string, string>);
      expect(r.expect, `${r.kind}: ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
      if (r.kind === 'tencent-garbage') expect(res.body.Response.Error.Code).toBe('InvalidParameter');
    }
    expect(elapsed).toBeLessThan(60_000);

    // Every valid import is present and correct: the service encrypts, the customer decrypts.
    for (const v of imports) {
      const d = await postJson(`${svc.url}${api('describe-key')}`, { key_id: v.keyId }, alice);
      expect(d.body.key_info.key_state).toBe('2');
      const enc = await postJson(`${svc.url}${api('encrypt-data')}`, { key_id: v.keyId, plain_text: 'after the storm' }, alice);
      expect(enc.status).toBe(200);
      expect(Buffer.from(customerDecrypt(v.spec, v.material, Buffer.from(enc.body.cipher_text, 'base64'))).toString()).toBe('after the storm');
    }
    // The decoy's token was spent by bad ciphertexts: the failure budget held.
    const spent = await postJson(`${svc.url}${api('import-key-material')}`, { key_id: decoyId, import_token: decoyParams.body.import_token, encrypted_key_material: randomBytes(120).toString('base64') }, alice);
    expect(spent.status).toBe(400);

    // Memory back near the baseline (RSS; allow the heap to have grown to its working size).
    let rss = rssKiB(svc.child.pid!);
    for (let i = 0; i < 20 && rss > baseline + 96 * 1024; i++) {
      await new Promise((r) => setTimeout(r, 250));
      rss = rssKiB(svc.child.pid!);
    }
    expect(rss, `RSS ${rss} KiB vs baseline ${baseline} KiB`).toBeLessThan(baseline + 96 * 1024);

    // No secret in any log written during the test (stdout/stderr and any file in the data dir).
    const logs = svc.output().slice(logStart) + readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).toContain('request refused');
    const found = secrets.filter((s) => s.length >= 16 && logs.includes(s));
    expect(found, 'secrets found in the logs').toEqual([]);
    expect(logs).not.toMatch(/-----BEGIN|PRIVATE KEY/);
  }, 120_000);

  it('random actions leave /metrics bounded: 2,000 unknown X-TC-Action values, none of them in a label', async () => {
    const before = (await (await fetch(`${svc.url}/metrics`)).text()).length;
    const marker = `zq${randomBytes(4).toString('hex')}`;
    const headers = { 'content-type': 'application/json', authorization: 'Bearer alice-token' };
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => fetch(`${svc.url}/`, {
        method: 'POST', body: i % 2 ? '{' : '{}', headers: { ...headers, 'x-tc-action': `${marker}${randomBytes(8).toString('hex')}` },
      }).then((r) => r.arrayBuffer())));
    }
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    expect(text).not.toContain(marker);
    expect(text.length - before, 'growth of /metrics').toBeLessThan(2048);
  }, 60_000);

  it('slow sockets are closed: a body a byte a second, headers that never end, an idle connection', async () => {
    const slow = openSlowSockets(svc.url, 24, api('describe-key'), alice, 1000);
    try {
      // Every kind is past a deadline by requestMs; node checks the deadlines once a second.
      expect(await slow.allClosedWithin(TIMEOUTS.requestMs + 5000)).toBe(24);
      expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    } finally {
      slow.stop();
    }
  }, 60_000);
});
