/**
 * Several instances, one key space: real `byok serve` processes on one PostgreSQL database,
 * driven concurrently over HTTP. Imports of one key spread across instances, races of different
 * material (one winner each), tokens and their failure budget shared, an instance SIGKILLed
 * mid-stream (nothing lost), and the database going away and coming back (503, then recovery
 * without a restart).
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerDecrypt } from '../helpers/customer.js';
import { startPgCluster, type PgCluster } from '../helpers/postgres.js';
import { postJson, runServeExpectingExit, startService, type RunningService } from '../helpers/service.js';

const cluster = startPgCluster();
if ('skip' in cluster) it.skip(`several instances on PostgreSQL: ${cluster.skip}`, () => undefined);

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-multi-'));
const alice = { 'x-auth-token': 'alice-token' };
// What every instance must share besides the database: the engine keys (here from the environment).
const ENGINE_KEYS = {
  BYOK_MASTER_KEY: randomBytes(32).toString('base64'),
  BYOK_TOKEN_SEALING_KEY: randomBytes(32).toString('base64'),
  BYOK_COMMITMENT_KEY: randomBytes(32).toString('base64'),
};
let storeUrl = '';
let a: RunningService;
let b: RunningService;

const start = (name: string) => startService({ dataDir: join(dir, name), authTokens: 'alice-token=alice', args: ['--store', storeUrl, '--key-pool', '2', '--log-level', 'warn'], env: ENGINE_KEYS });
const api = (svc: RunningService, action: string, body: unknown) => postJson(`${svc.url}/v1.0/proj/kms/${action}`, body, alice);
const code = (r: { status: number; body: any }) => [r.status, r.body.error?.error_code];

async function createExternal(svc: RunningService): Promise<string> {
  const r = await api(svc, 'create-key', { key_alias: 'm-' + randomBytes(3).toString('hex'), key_spec: 'AES_256', origin: 'external' });
  expect(r.status).toBe(200);
  return r.body.key_info.key_id;
}

async function params(svc: RunningService, keyId: string): Promise<{ publicKey: string; token: string }> {
  const r = await api(svc, 'get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' });
  expect(r.status).toBe(200);
  return { publicKey: r.body.public_key, token: r.body.import_token };
}

/** The customer's wrap (RSA-OAEP-SHA-256 to the returned public key). */
function wrap(publicKey: string, material: Uint8Array): string {
  const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material).toString('base64');
}

const importAt = (svc: RunningService, keyId: string, p: { publicKey: string; token: string }, material: Uint8Array) =>
  api(svc, 'import-key-material', { key_id: keyId, import_token: p.token, encrypted_key_material: wrap(p.publicKey, material) });

/** The service encrypts at `svc`; the customer decrypts with its own material. */
async function encryptsWith(svc: RunningService, keyId: string, material: Uint8Array): Promise<void> {
  const enc = await api(svc, 'encrypt-data', { key_id: keyId, plain_text: 'shared key space' });
  expect(enc.status).toBe(200);
  expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(enc.body.cipher_text, 'base64'))).toString()).toBe('shared key space');
}

describe('byok serve --store', () => {
  it('an unknown store is a usage error (2); an unreachable database fails the start (1), password redacted', async () => {
    const usage = await runServeExpectingExit(['--store', 'mysql://db/x', '--data-dir', join(dir, 'usage')]);
    expect(usage).toMatchObject({ code: 2, output: expect.stringMatching(/unknown store 'mysql:\/\/db\/x' \(sqlite\|postgres:\/\/\.\.\.\)/) });
    const down = await runServeExpectingExit(['--port', '0', '--data-dir', join(dir, 'down')],
      { BYOK_STORE_URL: `postgres://byok:s3cret@localhost/x?host=${encodeURIComponent(join(dir, 'no-socket-here'))}`, BYOK_AUTH_TOKENS: 't=t', ...ENGINE_KEYS });
    expect(down.code).toBe(1);
    expect(down.output).toMatch(/key store at postgres:\/\/byok:\*\*\*@localhost\/x.* could not be reached or migrated \(ENOENT\)/);
    expect(down.output).not.toMatch(/s3cret/);
  });
});

describe.skipIf('skip' in cluster)('several byok serve instances on one PostgreSQL database', () => {
  const pgc = cluster as PgCluster;

  beforeAll(async () => {
    storeUrl = await pgc.createDatabase('byok_multi');
    // Started together: the migrations' advisory lock makes them take turns.
    [a, b] = await Promise.all([start('a'), start('b')]);
    expect(a.output()).toMatch(/store postgresql:\/\/postgres@localhost\/byok_multi/);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    pgc.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports of one key spread across both instances, each token redeemed at the other', async () => {
    const keyId = await createExternal(a);
    const material = randomBytes(32);
    const tokens = await Promise.all([a, b, a, b, a, b].map((svc) => params(svc, keyId)));
    const results = await Promise.all(tokens.map((p, i) => importAt(i % 2 ? a : b, keyId, p, material)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const [da, db] = await Promise.all([api(a, 'describe-key', { key_id: keyId }), api(b, 'describe-key', { key_id: keyId })]);
    expect(da.body.key_info.key_state).toBe('2');
    expect(db.body.key_info).toEqual(da.body.key_info);
    await encryptsWith(a, keyId, material);
    await encryptsWith(b, keyId, material);
    // Encrypted at one, decrypted at the other.
    const enc = await api(a, 'encrypt-data', { key_id: keyId, plain_text: 'across' });
    expect((await api(b, 'decrypt-data', { cipher_text: enc.body.cipher_text })).body.plain_text).toBe('across');
  });

  it('races of different material into one key: exactly one winner per race, the other KMS.2314', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => createExternal(a)));
    const races = await Promise.all(keys.map(async (keyId) => {
      const [pa, pb] = await Promise.all([params(a, keyId), params(b, keyId)]);
      const [ma, mb] = [randomBytes(32), randomBytes(32)];
      // Both requests prepared first, then sent at the same moment to different instances.
      const [ra, rb] = await Promise.all([importAt(a, keyId, pa, ma), importAt(b, keyId, pb, mb)]);
      return { keyId, ra, rb, ma, mb };
    }));
    for (const { keyId, ra, rb, ma, mb } of races) {
      expect([code(ra), code(rb)].sort()).toEqual([[200, undefined], [400, 'KMS.2314']]);
      const winner = ra.status === 200 ? ma : mb;
      await encryptsWith(ra.status === 200 ? b : a, keyId, winner);
    }
  });

  it('a token\'s failure budget is counted once across instances', async () => {
    const keyId = await createExternal(b);
    const p = await params(a, keyId);
    const garbage = randomBytes(256).toString('base64');
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) =>
      api(i % 2 ? a : b, 'import-key-material', { key_id: keyId, import_token: p.token, encrypted_key_material: garbage })));
    const codes = results.map((r) => code(r)[1]);
    expect(codes.filter((c) => c === 'KMS.2310')).toHaveLength(10);
    expect(codes.filter((c) => c === 'KMS.2313')).toHaveLength(6);
  });

  it('an instance SIGKILLed mid-stream: every confirmed import is there through the other', async () => {
    const c = await start('c');
    const confirmed: Array<{ keyId: string; material: Uint8Array }> = [];
    const inFlight = new Set<string>();
    let killed = false;
    const worker = async () => {
      while (!killed) {
        try {
          const keyId = await createExternal(c);
          inFlight.add(keyId);
          const material = randomBytes(32);
          const r = await importAt(c, keyId, await params(c, keyId), material);
          if (r.status === 200) confirmed.push({ keyId, material });
          if (confirmed.length >= 12 && !killed) {
            killed = true;
            c.child.kill('SIGKILL'); // the other workers are mid-request right now
          }
        } catch {
          if (!killed) throw new Error(`instance c failed before the kill:\n${c.output()}`);
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    await c.stop();
    expect(c.child.signalCode).toBe('SIGKILL');
    for (const { keyId, material } of confirmed) {
      expect((await api(a, 'describe-key', { key_id: keyId })).body.key_info.key_state).toBe('2');
      await encryptsWith(a, keyId, material);
    }
    // Whatever was in flight is a fresh pending key or fully imported, never in between.
    const list = await Promise.all([...inFlight].map((keyId) => api(b, 'describe-key', { key_id: keyId })));
    for (const d of list) expect(['5', '2']).toContain(d.body.key_info.key_state);
  });

  // Last: the database goes away and comes back; the instances are never restarted.
  it('connection loss: 503 with the store code, nothing half-written, recovery without a restart', async () => {
    const keyId = await createExternal(a);
    const p = await params(b, keyId);
    const material = randomBytes(32);
    pgc.stop();
    try {
      const d = await api(a, 'describe-key', { key_id: keyId });
      expect(code(d)).toEqual([503, 'KMS.0503']);
      expect(code(await importAt(b, keyId, p, material))).toEqual([503, 'KMS.0503']);
      const tc = await postJson(`${a.url}/`, { KeyId: keyId }, { authorization: 'Bearer alice-token', 'x-tc-action': 'DescribeKey' });
      expect(tc.body.Response.Error.Code).toBe('UnsupportedOperation.ServiceTemporaryUnavailable');
      expect(JSON.stringify(tc.body)).not.toMatch(/ECONNREFUSED|ENOENT|PGSQL|postgres/i);
    } finally {
      pgc.start();
    }
    // Same processes, same pools: the failed import left the key pending and the token usable.
    expect((await api(a, 'describe-key', { key_id: keyId })).body.key_info.key_state).toBe('5');
    expect((await importAt(a, keyId, p, material)).status).toBe(200);
    await encryptsWith(b, keyId, material);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
  });
});
