/**
 * Issue 14 defect 7: every error the framework raises (bad URL encoding, bad content type, body
 * too large, bad JSON, unknown route, method not allowed) is answered in the caller's dialect,
 * with an x-request-id, never fastify's own body and never an echo of the URL.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEngineKeys } from '../src/config/key-files.js';
import type { ImportEngine } from '../src/engine/import-engine.js';
import { openEngine } from '../src/open-engine.js';
import { buildServer } from '../src/server/app.js';
import { AuthTokens } from '../src/server/auth.js';

let engine: ImportEngine;
let app: ReturnType<typeof buildServer>['app'];
const auth = new AuthTokens(new Map([['tok-a', 'tenant-a']]));
const REQUEST_ID = /^[0-9a-f-]{36}$/;

beforeAll(async () => {
  engine = await openEngine({ store: 'memory', keys: generateEngineKeys() });
  ({ app } = buildServer({ engine, auth, logger: pino({ level: 'silent' }), bodyLimit: 1024 }));
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
});

type Probe = { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; headers?: Record<string, string>; payload?: string };

/** The raw answer, checked for what no error may carry: fastify's own fields, the URL, a missing request ID. */
async function send(p: Probe) {
  const r = await app.inject({ method: p.method ?? 'POST', url: p.url, headers: p.headers ?? {}, ...(p.payload !== undefined ? { payload: p.payload } : {}) });
  expect(r.headers['x-request-id'], r.body).toMatch(REQUEST_ID);
  expect(r.body).not.toMatch(/FST_|statusCode|"Bad Request"|Client Error/);
  expect(r.body).not.toContain('zz');
  expect(r.body).not.toContain('zzz-attacker');
  return r;
}

const hwHeaders = { 'content-type': 'application/json', 'x-auth-token': 'tok-a' };
const tcHeaders = (action = 'DescribeKey') => ({ 'content-type': 'application/json', authorization: 'Bearer tok-a', 'x-tc-action': action });

describe('framework errors in the Huawei dialect', () => {
  const huawei = async (p: Probe, status: number, code: string) => {
    const r = await send(p);
    expect([r.statusCode, Object.keys(r.json()), r.json().error?.error_code], r.body).toEqual([status, ['error'], code]);
    expect(Object.keys(r.json().error)).toEqual(['error_code', 'error_msg']);
  };
  it('bad URL encoding', () => huawei({ url: '/v1.0/%zz/kms/describe-key', headers: hwHeaders, payload: '{}' }, 400, 'KMS.2300'));
  it('bad URL encoding outside any dialect prefix', () => huawei({ url: '/%zzz-attacker', headers: hwHeaders, payload: '{}' }, 400, 'KMS.2300'));
  it('bad content type', () => huawei({ url: '/v1.0/p/kms/describe-key', headers: { ...hwHeaders, 'content-type': 'text/zzz-attacker' }, payload: 'x' }, 400, 'KMS.2300'));
  it('body too large', () => huawei({ url: '/v1.0/p/kms/describe-key', headers: hwHeaders, payload: JSON.stringify({ key_id: 'a'.repeat(4096) }) }, 400, 'KMS.2300'));
  it('bad JSON', () => huawei({ url: '/v1.0/p/kms/describe-key', headers: hwHeaders, payload: '{"key_id": zzz-attacker' }, 400, 'KMS.2300'));
  it('unknown route', () => huawei({ url: '/v1.0/p/kms/zzz-attacker', headers: hwHeaders, payload: '{}' }, 404, 'KMS.0404'));
  it('unknown path outside the dialect', () => huawei({ method: 'GET', url: '/zzz-attacker?zz=1' }, 404, 'KMS.0404'));
  it('method not allowed', () => huawei({ method: 'DELETE', url: '/v1.0/p/kms/describe-key', headers: { 'x-auth-token': 'tok-a' } }, 404, 'KMS.0404'));
});

describe('framework errors in the Tencent dialect', () => {
  const tencent = async (p: Probe, code: string) => {
    const r = await send(p);
    expect(r.statusCode, r.body).toBe(200);
    const res = r.json().Response;
    expect([Object.keys(r.json()), res?.Error?.Code, res?.RequestId], r.body).toEqual([['Response'], code, r.headers['x-request-id']]);
    expect(Object.keys(res.Error)).toEqual(['Code', 'Message']);
  };
  it('bad content type', () => tencent({ url: '/', headers: { ...tcHeaders(), 'content-type': 'text/zzz-attacker' }, payload: 'x' }, 'InvalidParameter'));
  it('body too large', () => tencent({ url: '/', headers: tcHeaders(), payload: JSON.stringify({ KeyId: 'a'.repeat(4096) }) }, 'InvalidParameter'));
  it('bad JSON', () => tencent({ url: '/', headers: tcHeaders(), payload: '{"KeyId": zzz-attacker' }, 'InvalidParameter'));
  it('unknown action: not echoed', () => tencent({ url: '/', headers: tcHeaders('zzz-attacker'), payload: '{}' }, 'InvalidAction'));
  it('bad URL encoding with the Tencent action header', () => tencent({ url: '/%zz', headers: tcHeaders(), payload: '{}' }, 'InvalidParameter'));
});
