/**
 * The HTTP app in process (fastify inject / a local listener): the error handler, validation,
 * auth order, request IDs, audit lines, metrics, and the client library against it.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsServiceClient, ServiceError } from '../src/client/service-client.js';
import { wrapMaterial } from '../src/client/wrap.js';
import { generateEngineKeys } from '../src/config/key-files.js';
import { openEngine } from '../src/open-engine.js';
import type { ImportEngine } from '../src/engine/import-engine.js';
import { buildServer } from '../src/server/app.js';
import { auditLine, auditSink } from '../src/server/audit.js';
import { AuthTokens } from '../src/server/auth.js';
import { customerDecrypt } from './helpers/customer.js';

const lines: string[] = [];
const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
const logs = () => lines.join('');
let engine: ImportEngine;
let app: ReturnType<typeof buildServer>['app'];
const auth = new AuthTokens(new Map([['tok-a', 'tenant-a'], ['tok-b', 'tenant-b']]));
const A = { 'x-auth-token': 'tok-a' };

beforeAll(async () => {
  engine = await openEngine({ store: 'memory', keys: generateEngineKeys(), onAudit: auditSink(logger) });
  ({ app } = buildServer({ engine, auth, logger }));
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
});

const hw = (action: string, payload: unknown, headers: Record<string, string> = A) =>
  app.inject({ method: 'POST', url: `/v1.0/proj/kms/${action}`, headers: { 'content-type': 'application/json', ...headers }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
const tc = (action: string | undefined, payload: unknown, token = 'tok-a') =>
  app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(action ? { 'x-tc-action': action } : {}) }, payload: JSON.stringify(payload) });

async function externalKey(spec = 'AES_256'): Promise<string> {
  const r = await hw('create-key', { key_alias: 'k', key_spec: spec, origin: 'external' });
  expect(r.statusCode).toBe(200);
  return r.json().key_info.key_id;
}

describe('error handling', () => {
  it('a foreign error is a generic 500: no message, no stack, on the wire or in the log', async () => {
    const secret = 'deadbeef'.repeat(4);
    const broken = new Proxy(engine, {
      get: (target, prop, receiver) => (prop === 'describeKey' ? async () => { throw new TypeError(`boom ${secret}`); } : Reflect.get(target, prop, receiver)),
    });
    const { app: brokenApp } = buildServer({ engine: broken, auth, logger });
    try {
      const r = await brokenApp.inject({ method: 'POST', url: '/v1.0/p/kms/describe-key', headers: { 'content-type': 'application/json', ...A }, payload: JSON.stringify({ key_id: '00000000-0000-0000-0000-000000000000' }) });
      expect(r.statusCode).toBe(500);
      expect(r.json()).toEqual({ error: { error_code: 'KMS.0500', error_msg: 'Internal error.' } });
      const t = await brokenApp.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json', authorization: 'Bearer tok-a', 'x-tc-action': 'DescribeKey' }, payload: JSON.stringify({ KeyId: '00000000-0000-0000-0000-000000000000' }) });
      expect(t.json().Response.Error).toEqual({ Code: 'InternalError', Message: 'Internal error.' });
      expect(logs()).toContain('"msg":"internal error"');
      expect(logs()).toContain('"type":"TypeError"');
      expect(logs()).not.toContain(secret);
    } finally {
      await brokenApp.close();
    }
  });

  it('authentication comes before validation: no token and a bad body is 401', async () => {
    const r = await hw('describe-key', '{nope', {});
    expect(r.statusCode).toBe(401);
    expect(r.json().error.error_code).toBe('KMS.0401');
    expect((await hw('describe-key', { key_id: 'x' }, { 'x-auth-token': 'tok-c' })).statusCode).toBe(401);
  });

  it.each([
    ['not JSON', '{"key_id":', /not valid JSON/],
    ['an unknown field', { key_id: '00000000-0000-0000-0000-000000000000', colour: 'red' }, /must NOT have additional properties/],
    ['a wrong type', { key_id: ['a'] }, /must be string/],
    ['a number as string', { key_id: '00000000-0000-0000-0000-000000000000', sequence: 12 }, /must be string/],
    ['a short sequence', { key_id: '00000000-0000-0000-0000-000000000000', sequence: 'abc' }, /sequence/],
    ['a missing field', {}, /required property 'key_id'/],
    ['an oversized body', { key_id: 'x'.repeat(70_000) }, /too large/],
    ['JSON null', 'null', /body must be object/],
  ])('%s → 400 KMS.2300 with a clear message', async (_name, body, message) => {
    const r = await hw('describe-key', body);
    expect(r.statusCode).toBe(400);
    expect(r.json().error.error_code).toBe('KMS.2300');
    expect(r.json().error.error_msg).toMatch(message);
    expect(r.body).not.toMatch(/node_modules|at \w+ \(/);
  });

  it('a non-JSON content type is a 400, not a 415 or 500', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1.0/p/kms/describe-key', headers: { 'content-type': 'text/plain', ...A }, payload: 'key_id=1' });
    expect([r.statusCode, r.json().error.error_msg]).toEqual([400, 'The request body must be application/json.']);
  });

  it("the seeds' field rules: key ID regex, token pattern, base64 material, algorithm enumeration", async () => {
    const keyId = await externalKey();
    const code = async (action: string, body: unknown) => (await hw(action, body)).json().error?.error_code;
    expect(await code('describe-key', { key_id: keyId.toUpperCase() })).toBe('KMS.2302');
    expect(await code('import-key-material', { key_id: keyId, import_token: 'short', encrypted_key_material: 'AAAA' })).toBe('KMS.2300');
    expect(await code('import-key-material', { key_id: keyId, import_token: 'A'.repeat(200) + '!', encrypted_key_material: 'AAAA' })).toBe('KMS.2300');
    expect(await code('import-key-material', { key_id: keyId, import_token: 'A'.repeat(200), encrypted_key_material: 'not base64!' })).toBe('KMS.2300');
    expect(await code('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_512' })).toBe('KMS.2300');
    // Tencent's name for SM2_ENCRYPT is accepted here too (issue 16).
    expect(await code('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'SM2PKE' })).toBeUndefined();
  });

  it('unknown routes and actions; a request ID on every response', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1.0/p/kms/describe-key' });
    expect([r.statusCode, r.json().error.error_code]).toEqual([404, 'KMS.0404']);
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // POST / naming no operation is no dialect's: a 400 every vendor's client raises (AWS reads __type), never a 200.
    const none = await tc(undefined, {});
    expect([none.statusCode, none.json().__type]).toEqual([400, 'UnknownOperationException']);
    expect(none.headers['content-type']).toMatch(/^application\/x-amz-json-1\.1/);
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unknown = await tc('NoSuchAction', {});
    expect([unknown.statusCode, unknown.json().Response.Error.Code, unknown.headers['content-type']]).toEqual([200, 'InvalidAction', 'application/json']);
    expect(unknown.json().Response.RequestId).toBe(unknown.headers['x-request-id']);
    const h = await app.inject({ method: 'GET', url: '/healthz' });
    expect([h.statusCode, h.json()]).toEqual([200, { status: 'ok' }]);
    expect(h.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('closing', () => {
  it('an in-flight request finishes, answered with Connection: close so its socket does not hold the close open', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const slow = new Proxy(engine, {
      get: (target, prop, receiver) => (prop === 'describeKey'
        ? async () => { entered(); await gate; throw new Error('unused'); }
        : Reflect.get(target, prop, receiver)),
    });
    const { app: closingApp } = buildServer({ engine: slow, auth, logger });
    const url = await closingApp.listen({ host: '127.0.0.1', port: 0 });
    const post = (path: string, body: unknown, headers: Record<string, string>) =>
      fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const first = post('/v1.0/p/kms/describe-key', { key_id: '00000000-0000-0000-0000-000000000000' }, A);
    await inside;
    const closed = closingApp.close();
    await new Promise((r) => setImmediate(r)); // let the preClose hooks run
    release();
    const r = await first;
    expect([r.status, r.headers.get('connection')]).toEqual([500, 'close']);
    await closed;
  });
});

describe('the flow in process, and what the logs say about it', () => {
  it.each([['RSAES_OAEP_SHA_256', 'AES_256', 32], ['SM2_ENCRYPT', 'SM4', 16]] as const)('%s into a %s key; audit lines carry the request and no secret', async (algorithm, spec, len) => {
    const keyId = await externalKey(spec);
    const p = (await hw('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: algorithm })).json();
    const material = new Uint8Array(randomBytes(len));
    const hex = Buffer.from(material).toString('hex');
    const wrapped = Buffer.from(wrapMaterial({ publicKey: p.public_key, algorithm, material })).toString('base64');
    const r = await hw('import-key-material', { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrapped, sequence: '919c82d4-8046-4722-9094-35c3c6524cff' });
    expect(r.statusCode).toBe(200);
    const enc = (await hw('encrypt-data', { key_id: keyId, plain_text: 'in process' })).json();
    expect(Buffer.from(customerDecrypt(spec === 'SM4' ? 'SM4_128' : 'AES_256', material, Buffer.from(enc.cipher_text, 'base64'))).toString()).toBe('in process');
    const audit = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'audit' && l.audit.keyId === keyId).map((l) => l.audit);
    expect(audit.find((a) => a.operation === 'ImportKeyMaterial')).toEqual({
      operation: 'ImportKeyMaterial', tenant: 'tenant-a', keyId, algorithm, outcome: 'ok', requestId: r.headers['x-request-id'], dialect: 'huawei', action: 'import-key-material',
    });
    for (const secret of [hex, Buffer.from(hex, 'hex').toString('base64'), p.import_token, wrapped, 'tok-a']) expect(logs()).not.toContain(secret);
  });

  it('auditLine copies named fields only', () => {
    const record = { operation: 'ImportKeyMaterial', tenant: 't', keyId: 'k', outcome: 'ok', material: 'SECRET', importToken: 'SECRET' };
    expect(JSON.stringify(auditLine(record as never, undefined))).not.toContain('SECRET');
  });

  it('tenant B sees 404 for tenant A\'s key on every route, even with A\'s import token', async () => {
    const keyId = await externalKey();
    const p = (await hw('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_PKCS1_V1_5' })).json();
    const B = { 'x-auth-token': 'tok-b' };
    for (const [action, body] of [
      ['describe-key', { key_id: keyId }], ['enable-key', { key_id: keyId }], ['disable-key', { key_id: keyId }],
      ['delete-imported-key-material', { key_id: keyId }], ['encrypt-data', { key_id: keyId, plain_text: 'x' }],
      ['get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }],
    ] as const) {
      const r = await hw(action, body, B);
      expect([action, r.statusCode, r.json().error.error_code]).toEqual([action, 404, 'KMS.2301']);
    }
    const wrapped = Buffer.from(wrapMaterial({ publicKey: p.public_key, algorithm: 'RSAES_PKCS1_V1_5', material: new Uint8Array(32) })).toString('base64');
    const stolen = await hw('import-key-material', { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrapped }, B);
    expect(stolen.statusCode).toBeGreaterThanOrEqual(400);
    expect(stolen.statusCode).not.toBe(200);
    expect((await hw('describe-key', { key_id: keyId })).json().key_info.key_state).toBe('5');
  });

  it('metrics: Prometheus text with requests, errors by code, import latency and pool depth', async () => {
    const r = await app.inject({ method: 'GET', url: '/metrics' });
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = r.body;
    for (const name of ['byok_requests_total', 'byok_errors_total', 'byok_import_seconds', 'byok_wrapping_key_pool_depth']) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (counter|histogram|gauge)$`, 'm'));
    }
    expect(text).toMatch(/^byok_errors_total\{code="KEY_NOT_FOUND"\} [1-9]\d*$/m);
    expect(text).toMatch(/^byok_requests_total\{dialect="huawei",action="describe-key",status="404"\} [1-9]\d*$/m);
    expect(text).toMatch(/^byok_import_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^byok_import_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m);
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [0-9.e+-]+)$/);
  });
});

describe('KmsServiceClient against a listening app', () => {
  let url: string;
  beforeAll(async () => {
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  it('importMaterial: parameters, local wrap, import; the caller\'s buffer is zeroized', async () => {
    const client = new KmsServiceClient({ endpoint: url, authToken: 'tok-a', projectId: 'proj' });
    const keyId = (await client.createKey('via-client')).key_info.key_id;
    const material = new Uint8Array(randomBytes(32));
    const copy = Uint8Array.from(material);
    const info = await client.importMaterial({ keyId, material, wrappingAlgorithm: 'RSAES_OAEP_SHA_1' });
    expect(info).toMatchObject({ key_id: keyId, key_state: '2' });
    expect(info.key_check_value).toMatch(/^[0-9a-f]{16}$/);
    expect(material.every((b) => b === 0)).toBe(true);
    const enc = await client.encryptData(keyId, 'round trip');
    expect(Buffer.from(customerDecrypt('AES_256', copy, Buffer.from(enc.cipher_text, 'base64'))).toString()).toBe('round trip');
    expect((await client.decryptData(enc.cipher_text)).plain_text).toBe('round trip');
    expect((await client.disableKey(keyId)).key_info.key_state).toBe('3');
    expect((await client.enableKey(keyId)).key_info.key_state).toBe('2');
    expect(await client.deleteImportedKeyMaterial(keyId)).toEqual({});
  });

  it('refusals are ServiceErrors with status, code and request ID; an unreachable endpoint is one too', async () => {
    const client = new KmsServiceClient({ endpoint: url, authToken: 'wrong' });
    const e = await client.describeKey('00000000-0000-0000-0000-000000000000').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ServiceError);
    expect(e).toMatchObject({ status: 401, errorCode: 'KMS.0401', message: 'KMS.0401: Authentication is missing or invalid.' });
    expect((e as ServiceError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    const down = await new KmsServiceClient({ endpoint: 'http://127.0.0.1:9', authToken: 't', timeoutMs: 5000 }).describeKey('x').catch((x: unknown) => x);
    expect(down).toMatchObject({ status: 0, errorCode: 'UNREACHABLE' });
    expect(() => new KmsServiceClient({ endpoint: 'ftp://x', authToken: 't' })).toThrow(/http\(s\) URL/);
  });
});
