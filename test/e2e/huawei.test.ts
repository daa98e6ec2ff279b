/**
 * The real service as a child process, driven with a real HTTP client (fetch) and the OpenSSL
 * CLI, Huawei-style dialect: every algorithm, the error codes, tenancy, malformed bodies, and
 * durability across a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerDecrypt, customerEncrypt, wrapWithOpenssl } from '../helpers/customer.js';
import { postJson, startService, type RunningService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-hw-'));
const TOKENS = 'alice-token=alice,bob-token=bob';
let svc: RunningService;
const alice = { 'x-auth-token': 'alice-token' };
const bob = { 'x-auth-token': 'bob-token' };
const api = (action: string) => `${svc.url}/v1.0/proj-1/kms/${action}`;

beforeAll(async () => {
  svc = await startService({ dataDir: dir, authTokens: TOKENS, env: { BYOK_SQLITE_BUSY_TIMEOUT_MS: '200' } });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function createExternal(headers = alice, spec = 'AES_256') {
  const r = await postJson(api('create-key'), { key_alias: 'k-' + randomBytes(3).toString('hex'), key_spec: spec, origin: 'external' }, headers);
  expect(r.status).toBe(200);
  return r.body.key_info.key_id as string;
}

async function importFresh(keyId: string, algorithm: string, material = randomBytes(32), extra: Record<string, unknown> = {}) {
  const p = await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: algorithm }, alice);
  expect(p.status).toBe(200);
  const r = await postJson(api('import-key-material'), {
    key_id: keyId, import_token: p.body.import_token, encrypted_key_material: wrapWithOpenssl(p.body.public_key, algorithm, material), ...extra,
  }, alice);
  return { r, params: p.body, material };
}

describe('Huawei-style REST against the real service', () => {
  it.each(['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5', 'SM2_ENCRYPT'])('happy path with %s wrapped by the OpenSSL CLI', async (algorithm) => {
    const keyId = await createExternal();
    const { r, params, material } = await importFresh(keyId, algorithm);
    expect(params.import_token).toMatch(/^[0-9a-zA-Z+/=]{200,6144}$/);
    expect(r.status).toBe(200);
    const d = await postJson(api('describe-key'), { key_id: keyId }, alice);
    expect(d.body.key_info).toMatchObject({ key_id: keyId, key_state: '2', origin: 'external' });
    // The service encrypts; the customer decrypts with its own material, and the reverse.
    const enc = await postJson(api('encrypt-data'), { key_id: keyId, plain_text: 'hello byok' }, alice);
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(enc.body.cipher_text, 'base64'))).toString()).toBe('hello byok');
    const blob = customerEncrypt(keyId, 'AES_256', material, Buffer.from('from the customer'));
    const dec = await postJson(api('decrypt-data'), { cipher_text: Buffer.from(blob).toString('base64') }, alice);
    expect(dec.body).toMatchObject({ key_id: keyId, plain_text: 'from the customer' });
  });

  it('SM4 keys take 16-byte material', async () => {
    const keyId = await createExternal(alice, 'SM4');
    const { r, material } = await importFresh(keyId, 'SM2_ENCRYPT', randomBytes(16));
    expect(r.status).toBe(200);
    const enc = await postJson(api('encrypt-data'), { key_id: keyId, plain_text: 'sm4' }, alice);
    expect(Buffer.from(customerDecrypt('SM4_128', material, Buffer.from(enc.body.cipher_text, 'base64'))).toString()).toBe('sm4');
  });

  it('error codes: decrypt failure, mismatch, state, not external, not found, invalid key ID, expiry rule', async () => {
    const code = (r: { status: number; body: any }) => [r.status, r.body.error?.error_code];
    const keyId = await createExternal();
    const p = await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }, alice);
    const bad = await postJson(api('import-key-material'), { key_id: keyId, import_token: p.body.import_token, encrypted_key_material: randomBytes(256).toString('base64') }, alice);
    expect(code(bad)).toEqual([400, 'KMS.2310']);
    expect(bad.body.error.error_msg).toBe('The encrypted key material could not be decrypted.');

    const material = randomBytes(32);
    expect((await importFresh(keyId, 'RSAES_OAEP_SHA_256', material)).r.status).toBe(200);
    expect(code((await importFresh(keyId, 'RSAES_OAEP_SHA_256', randomBytes(32))).r)).toEqual([400, 'KMS.2314']);
    expect(code((await importFresh(keyId, 'RSAES_OAEP_SHA_256', material, { expiration_time: 1 })).r)).toEqual([400, 'KMS.2300']);

    expect((await postJson(api('disable-key'), { key_id: keyId }, alice)).body.key_info.key_state).toBe('3');
    expect(code(await postJson(api('encrypt-data'), { key_id: keyId, plain_text: 'x' }, alice))).toEqual([400, 'KMS.2315']);
    expect((await postJson(api('enable-key'), { key_id: keyId }, alice)).body.key_info.key_state).toBe('2');
    expect((await postJson(api('delete-imported-key-material'), { key_id: keyId }, alice)).status).toBe(200);
    expect((await postJson(api('describe-key'), { key_id: keyId }, alice)).body.key_info.key_state).toBe('5');

    const kms = (await postJson(api('create-key'), { key_alias: 'kms-key' }, alice)).body.key_info.key_id;
    expect(code(await postJson(api('get-parameters-for-import'), { key_id: kms, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }, alice))).toEqual([400, 'KMS.2316']);
    expect(code(await postJson(api('describe-key'), { key_id: '00000000-0000-0000-0000-000000000000' }, alice))).toEqual([404, 'KMS.2301']);
    expect(code(await postJson(api('describe-key'), { key_id: 'NOT-A-KEY' }, alice))).toEqual([400, 'KMS.2302']);
    expect(code(await postJson(api('import-key-material'), { key_id: keyId, import_token: 'A'.repeat(300), encrypted_key_material: 'AAAA' }, alice))).toEqual([400, 'KMS.2311']);
  });

  it('more error codes: token expired (clock moved on), token exhausted, unsupported field, bad ciphertext, internal', async () => {
    const code = (r: { status: number; body: any }) => [r.status, r.body.error?.error_code];
    const keyId = await createExternal();
    const p = await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }, alice);
    const wrapped = wrapWithOpenssl(p.body.public_key, 'RSAES_OAEP_SHA_256', randomBytes(32));

    // A second process on the same data, its clock 25 h ahead: the token has expired there.
    const later = await startService({ dataDir: dir, authTokens: TOKENS, env: { BYOK_TEST_CLOCK_OFFSET_SECONDS: String(25 * 3600) } });
    try {
      const r = await postJson(`${later.url}/v1.0/proj-1/kms/import-key-material`, { key_id: keyId, import_token: p.body.import_token, encrypted_key_material: wrapped }, alice);
      expect(code(r)).toEqual([400, 'KMS.2312']);
    } finally {
      expect(await later.stop()).toBe(0);
    }

    // Ten failed unwraps exhaust a token: even a good wrap is then refused.
    const garbage = randomBytes(256).toString('base64');
    for (let i = 0; i < 10; i++) {
      expect(code(await postJson(api('import-key-material'), { key_id: keyId, import_token: p.body.import_token, encrypted_key_material: garbage }, alice))).toEqual([400, 'KMS.2310']);
    }
    expect(code(await postJson(api('import-key-material'), { key_id: keyId, import_token: p.body.import_token, encrypted_key_material: wrapped }, alice))).toEqual([400, 'KMS.2313']);

    expect(code(await postJson(api('import-key-material'), { key_id: keyId, import_token: p.body.import_token, encrypted_key_material: wrapped, encrypted_privatekey: 'A'.repeat(200) }, alice))).toEqual([400, 'KMS.2300']); // an AES key takes no encrypted_privatekey
    expect(code(await postJson(api('decrypt-data'), { cipher_text: randomBytes(80).toString('base64') }, alice))).toEqual([400, 'KMS.2319']);
    expect(code(await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: 'SM2_ENCRYPT', wrapping_key_spec: 'RSA_2048' }, alice))).toEqual([400, 'KMS.2300']);

    // Stored material corrupted behind the service's back: a 500 with the table's code, no detail.
    const k2 = await createExternal();
    expect((await importFresh(k2, 'RSAES_OAEP_SHA_256')).r.status).toBe(200);
    const db = new Database(join(dir, 'byok.sqlite'));
    db.prepare('UPDATE keys SET stored_material = ? WHERE key_id = ?').run(Buffer.from('corrupt'), k2);
    db.close();
    const internal = await postJson(api('encrypt-data'), { key_id: k2, plain_text: 'x' }, alice);
    expect(code(internal)).toEqual([500, 'KMS.0500']);
    expect(JSON.stringify(internal.body)).not.toMatch(/at .*\.js|Error:|corrupt/);
  });

  it('material expiry: imported with expiration_time, the key reads as pending import once it has passed', async () => {
    const keyId = await createExternal();
    const now = Math.floor(Date.now() / 1000);
    const { r } = await importFresh(keyId, 'RSAES_OAEP_SHA_256', randomBytes(32), { expiration_time: now + 3600 });
    expect(r.status).toBe(200);
    const d = await postJson(api('describe-key'), { key_id: keyId }, alice);
    expect(d.body.key_info).toMatchObject({ key_state: '2', expiration_time: String((now + 3600) * 1000) });
    const later = await startService({ dataDir: dir, authTokens: TOKENS, env: { BYOK_TEST_CLOCK_OFFSET_SECONDS: '7200' } });
    try {
      const after = await postJson(`${later.url}/v1.0/proj-1/kms/describe-key`, { key_id: keyId }, alice);
      expect(after.body.key_info.key_state).toBe('5');
      const enc = await postJson(`${later.url}/v1.0/proj-1/kms/encrypt-data`, { key_id: keyId, plain_text: 'x' }, alice);
      expect([enc.status, enc.body.error.error_code]).toEqual([400, 'KMS.2315']);
    } finally {
      expect(await later.stop()).toBe(0);
    }
  });

  it('tenancy: another tenant gets 404 for every call on the key; bad or missing auth gets 401', async () => {
    const keyId = await createExternal();
    for (const action of ['describe-key', 'enable-key', 'disable-key', 'delete-imported-key-material']) {
      const r = await postJson(api(action), { key_id: keyId }, bob);
      expect([r.status, r.body.error.error_code]).toEqual([404, 'KMS.2301']);
    }
    expect((await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }, bob)).status).toBe(404);
    const p = await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }, alice);
    const stolen = await postJson(api('import-key-material'), { key_id: keyId, import_token: p.body.import_token, encrypted_key_material: wrapWithOpenssl(p.body.public_key, 'RSAES_OAEP_SHA_256', randomBytes(32)) }, bob);
    expect(stolen.status).toBe(400); // the token is bound to alice
    expect((await postJson(api('describe-key'), { key_id: keyId }, alice)).body.key_info.key_state).toBe('5');
    expect((await postJson(api('describe-key'), { key_id: keyId }, { 'x-auth-token': 'nope' })).status).toBe(401);
    expect((await postJson(api('describe-key'), { key_id: keyId })).body).toEqual({ error: { error_code: 'KMS.0401', error_msg: 'Authentication is missing or invalid.' } });
  });

  it('malformed bodies: 400 with a clear message, never a 500 or a stack', async () => {
    const keyId = await createExternal();
    const cases: Array<[unknown, RegExp]> = [
      ['{not json', /not valid JSON/],
      [{ key_id: keyId, extra: 1 }, /additional properties/],
      [{ key_id: 42 }, /must be string/],
      [{}, /required property 'key_id'/],
      [{ key_id: keyId, sequence: 'short' }, /sequence/],
      [{ key_id: keyId, padding: 'x'.repeat(70 * 1024) }, /too large/],
    ];
    for (const [body, message] of cases) {
      const r = await postJson(api('describe-key'), body, alice);
      expect(r.status).toBe(400);
      expect(r.body.error.error_code).toBe('KMS.2300');
      expect(r.body.error.error_msg).toMatch(message);
      expect(JSON.stringify(r.body)).not.toMatch(/at .*\.js|Error:/);
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const wrongAlg = await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: 'RSA_TOY' }, alice);
    expect(wrongAlg.status).toBe(400);
  });

  it('store busy → 503 (service temporarily unavailable), and the service recovers', async () => {
    const db = new Database(join(dir, 'byok.sqlite'));
    db.exec('BEGIN EXCLUSIVE'); // another writer holds the lock past the busy timeout
    try {
      const r = await postJson(api('create-key'), { key_alias: 'busy', origin: 'external' }, alice);
      expect([r.status, r.body.error.error_code]).toEqual([503, 'KMS.0503']);
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    expect((await postJson(api('create-key'), { key_alias: 'after', origin: 'external' }, alice)).status).toBe(200);
  });

  it('healthz, metrics, request IDs, and logs that carry no secrets', async () => {
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/byok_requests_total\{dialect="huawei",action="import-key-material",status="200"\} \d+/);
    expect(metrics).toMatch(/byok_errors_total\{code="DECRYPT_MATERIAL_FAILED"\} \d+/);
    expect(metrics).toMatch(/byok_import_seconds_count \d+/);
    const keyId = await createExternal();
    const { params, material } = await importFresh(keyId, 'RSAES_OAEP_SHA_256');
    // Log lines reach the child's stdout asynchronously: wait (bounded) for the import's record.
    for (let i = 0; i < 100 && !/"operation":"ImportKeyMaterial"[^\n]*"outcome":"ok"/.test(svc.output().split('\n').filter((l) => l.includes(keyId)).join('\n')); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const log = svc.output();
    const audits = log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { audit?: Record<string, any> }).flatMap((l) => (l.audit ? [l.audit] : []));
    const mine = audits.filter((a) => a.keyId === keyId);
    expect(mine.map((a) => a.operation)).toEqual(['CreateKey', 'GetParametersForImport', 'ImportKeyMaterial']);
    expect(mine[0]).toMatchObject({ tenant: 'alice', outcome: 'ok', dialect: 'huawei', action: 'create-key' });
    expect(mine[1]).toMatchObject({ tenant: 'alice', algorithm: 'RSAES_OAEP_SHA_256', outcome: 'ok', dialect: 'huawei', action: 'get-parameters-for-import' });
    // The import request names no algorithm; the record takes it from the token.
    expect(mine[2]).toMatchObject({ tenant: 'alice', algorithm: 'RSAES_OAEP_SHA_256', outcome: 'ok', dialect: 'huawei', action: 'import-key-material' });
    expect(audits.some((a) => a.outcome === 'DECRYPT_MATERIAL_FAILED')).toBe(true);
    // The audit line and the request's own log lines share the request ID.
    expect(log).toContain(`"reqId":"${mine[1].requestId}"`);
    for (const secret of [params.import_token, material.toString('hex'), material.toString('base64'), 'alice-token']) expect(log).not.toContain(secret);
  });

  it('a restart keeps keys and their material (durability through the real server)', async () => {
    const keyId = await createExternal();
    const { material } = await importFresh(keyId, 'RSAES_OAEP_SHA_256');
    expect(await svc.stop()).toBe(0);
    expect(svc.output()).toContain('byok stopped');
    svc = await startService({ dataDir: dir, authTokens: TOKENS, env: { BYOK_SQLITE_BUSY_TIMEOUT_MS: '200' } });
    expect((await postJson(api('describe-key'), { key_id: keyId }, alice)).body.key_info.key_state).toBe('2');
    const blob = customerEncrypt(keyId, 'AES_256', material, Buffer.from('after restart'));
    const dec = await postJson(api('decrypt-data'), { cipher_text: Buffer.from(blob).toString('base64') }, alice);
    expect(dec.body.plain_text).toBe('after restart');
  });
});
