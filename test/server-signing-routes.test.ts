/**
 * Signed requests through the service's routes (fastify inject): authentication runs once the
 * raw body has arrived and before anything about it is reported; each refusal is in the
 * dialect's envelope with its code; a project-bound Huawei key reaches its project only; the
 * Tencent dialect answers with Content-Type exactly application/json.
 */
import { createRequire } from 'node:module';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { generateEngineKeys } from '../src/config/key-files.js';
import type { ImportEngine } from '../src/engine/import-engine.js';
import { openEngine } from '../src/open-engine.js';
import { buildServer } from '../src/server/app.js';
import { Credentials } from '../src/server/auth.js';
import { parseAccessKeys } from '../src/server/signing/access-keys.js';

const require = createRequire(import.meta.url);
const TencentSign = (require('tencentcloud-sdk-nodejs/tencentcloud/common/sign.js') as { default: { sign3(o: object): string } }).default;
const { AKSKSigner } = require('@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js') as { AKSKSigner: { sign(r: object, c: object): Record<string, string> } };

const clock = new ManualClock(Date.UTC(2026, 11, 1, 5, 38, 6));
const credentials = new Credentials(new Map([['tok-a', 'tenant-a']]), parseAccessKeys('AKIDTC:tc-secret=tenant-a,HWAK:hw-secret=tenant-a,HWBOUND:hw-bound=tenant-b/proj-b'), clock);
let engine: ImportEngine;
let app: ReturnType<typeof buildServer>['app'];

beforeAll(async () => {
  engine = await openEngine({ store: 'memory', keys: generateEngineKeys(), clock });
  ({ app } = buildServer({ engine, auth: credentials, logger: pino({ level: 'silent' }) }));
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
});

const HOST = '127.0.0.1:4599';

/** A Tencent action signed as tencentcloud-sdk-nodejs signs it (the body is sent as signed unless `sent` differs). */
function tencent(action: string, payload: string, { id = 'AKIDTC', secret = 'tc-secret', sent = payload, contentType = 'application/json' } = {}) {
  const timestamp = Math.floor(clock.now() / 1000);
  const authorization = TencentSign.sign3({
    method: 'POST', url: `http://${HOST}/`, payload: Buffer.from(payload), timestamp, service: '127', secretId: id, secretKey: secret,
    headers: { 'Content-Type': contentType },
  });
  return app.inject({
    method: 'POST', url: '/', payload: sent,
    headers: { host: HOST, 'content-type': contentType, 'x-tc-action': action, 'x-tc-version': '2019-01-18', 'x-tc-timestamp': String(timestamp), authorization },
  });
}

/** A Huawei call signed by the core SDK's AKSKSigner. */
function huawei(project: string, action: string, body: string, { ak = 'HWAK', sk = 'hw-secret', headerProject = project } = {}) {
  const path = `/v1.0/${project}/kms/${action}`;
  const base = { 'content-type': 'application/json', 'x-project-id': headerProject, 'X-Sdk-Date': '20261201T053806Z' };
  const headers = AKSKSigner.sign({ method: 'POST', endpoint: `http://${HOST}${path}`, headers: base, data: JSON.parse(body) }, { getAk: () => ak, getSk: () => sk });
  return app.inject({ method: 'POST', url: path, headers, payload: body });
}

describe('signed requests through the routes', () => {
  it('a TC3-signed Tencent call is served; success and errors carry Content-Type application/json exactly', async () => {
    const created = await tencent('CreateKey', '{"Alias":"signed-tc","Type":2}');
    expect([created.statusCode, created.headers['content-type']]).toEqual([200, 'application/json']);
    const keyId = created.json().Response.KeyId;
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);
    const described = await tencent('DescribeKey', JSON.stringify({ KeyId: keyId }));
    expect(described.json().Response.KeyMetadata.KeyState).toBe('PendingImport');
    const missing = await tencent('DescribeKey', '{"KeyId":"00000000-0000-0000-0000-000000000000"}');
    expect([missing.headers['content-type'], missing.json().Response.Error.Code]).toEqual(['application/json', 'ResourceUnavailable.CmkNotFound']);
  });

  it('Tencent refusals: SignatureFailure, SecretIdNotFound; the signature is judged before the body', async () => {
    const err = async (r: Promise<{ json(): any; statusCode: number }>) => {
      const res = await r;
      expect(res.statusCode).toBe(200);
      return res.json().Response.Error.Code;
    };
    expect(await err(tencent('DescribeKey', '{}', { secret: 'wrong' }))).toBe('AuthFailure.SignatureFailure');
    expect(await err(tencent('DescribeKey', '{"KeyId":"a"}', { sent: '{"KeyId":"b"}' }))).toBe('AuthFailure.SignatureFailure');
    expect(await err(tencent('DescribeKey', '{}', { id: 'AKIDNOPE' }))).toBe('AuthFailure.SecretIdNotFound');
    // Not JSON, signed wrongly: the signature is refused before the body is judged.
    expect(await err(tencent('DescribeKey', '{nope', { secret: 'wrong' }))).toBe('AuthFailure.SignatureFailure');
    // Not JSON, signed rightly: now the body is.
    expect(await err(tencent('DescribeKey', '{nope'))).toBe('InvalidParameter');
    expect(await err(tencent('DescribeKey', 'a=b', { contentType: 'application/x-www-form-urlencoded' }))).toBe('InvalidParameter');
  });

  it('a TC3 request signed more than 5 minutes ago is AuthFailure.SignatureExpire', async () => {
    const timestamp = Math.floor(clock.now() / 1000) - 301;
    const authorization = TencentSign.sign3({
      method: 'POST', url: `http://${HOST}/`, payload: Buffer.from('{}'), timestamp, service: 'kms', secretId: 'AKIDTC', secretKey: 'tc-secret', headers: { 'Content-Type': 'application/json' },
    });
    const r = await app.inject({ method: 'POST', url: '/', payload: '{}', headers: { host: HOST, 'content-type': 'application/json', 'x-tc-action': 'DescribeKey', 'x-tc-timestamp': String(timestamp), authorization } });
    expect(r.json().Response.Error.Code).toBe('AuthFailure.SignatureExpire');
  });

  it('an SDK-HMAC-SHA256 Huawei call is served; refusals are APIG.0301 (401) in Huawei\'s error format', async () => {
    const created = await huawei('proj-a', 'create-key', '{"key_alias":"signed-hw","origin":"external"}');
    expect(created.statusCode).toBe(200);
    expect(created.json().key_info.domain_id).toBe('tenant-a');
    for (const r of [
      await huawei('proj-a', 'create-key', '{"key_alias":"x"}', { sk: 'wrong' }),
      await huawei('proj-a', 'create-key', '{"key_alias":"x"}', { ak: 'NOPE' }),
    ]) {
      // The API gateway's flat format, with its request_id.
      expect([r.statusCode, r.json().error_code, r.json().request_id]).toEqual([401, 'APIG.0301', r.headers['x-request-id']]);
      expect(r.json().error_msg).toMatch(/signature|access key/i);
    }
    // Unauthenticated and not JSON: 401 before the body is judged (a token caller, as before).
    const r = await app.inject({ method: 'POST', url: '/v1.0/p/kms/describe-key', headers: { 'content-type': 'application/json' }, payload: '{nope' });
    expect([r.statusCode, r.json().error.error_code]).toEqual([401, 'KMS.0401']);
  });

  it('a key bound to a project reaches that project only (path and X-Project-Id): APIG.0302', async () => {
    const ok = await huawei('proj-b', 'create-key', '{"key_alias":"bound"}', { ak: 'HWBOUND', sk: 'hw-bound' });
    expect([ok.statusCode, ok.json().key_info.domain_id]).toEqual([200, 'tenant-b']);
    const other = await huawei('proj-c', 'create-key', '{"key_alias":"bound"}', { ak: 'HWBOUND', sk: 'hw-bound' });
    expect([other.statusCode, other.json().error_code]).toEqual([403, 'APIG.0302']);
    const header = await huawei('proj-b', 'create-key', '{"key_alias":"bound"}', { ak: 'HWBOUND', sk: 'hw-bound', headerProject: 'proj-c' });
    expect([header.statusCode, header.json().error_code]).toEqual([403, 'APIG.0302']);
    // An unbound key may name any project (the tenant is the key's).
    expect((await huawei('proj-z', 'create-key', '{"key_alias":"free"}')).statusCode).toBe(200);
  });

  it('bearer tokens and X-Auth-Token keep working beside the signatures', async () => {
    const t = await app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json', authorization: 'Bearer tok-a', 'x-tc-action': 'CreateKey' }, payload: '{"Alias":"bearer"}' });
    expect(t.json().Response.KeyId).toMatch(/^[0-9a-f-]{36}$/);
    const h = await app.inject({ method: 'POST', url: '/v1.0/p/kms/create-key', headers: { 'content-type': 'application/json', 'x-auth-token': 'tok-a' }, payload: '{"key_alias":"token"}' });
    expect(h.statusCode).toBe(200);
  });
});
