/**
 * The service as a library (src/server/index.ts): the fastify plugin mounted in a host app of its
 * own beside the host's routes, and the entry point without fastify installed.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapMaterial } from '../src/client/wrap.js';
import { generateEngineKeys } from '../src/config/key-files.js';
import { openEngine } from '../src/open-engine.js';
import type { ImportEngine } from '../src/engine/import-engine.js';
import { AuthTokens, byokService, Metrics } from '../src/server/index.js';
import { customerDecrypt } from './helpers/customer.js';

let engine: ImportEngine;
const host = Fastify();
const metrics = new Metrics();

beforeAll(async () => {
  engine = await openEngine({ store: 'memory', keys: generateEngineKeys() });
  host.get('/status', async () => ({ host: 'mine' }));
  // The host's own lax settings must not leak into the plugin's validation.
  host.post('/echo', async (req) => req.body);
  await host.register(byokService, { engine, auth: new AuthTokens(new Map([['tok', 'team']])), metrics });
  await host.ready();
});
afterAll(async () => {
  await host.close();
  await engine?.close();
});

const hw = (action: string, payload: unknown) =>
  host.inject({ method: 'POST', url: `/v1.0/p/kms/${action}`, headers: { 'content-type': 'application/json', 'x-auth-token': 'tok' }, payload: JSON.stringify(payload) });

describe('byokService mounted in an existing fastify app', () => {
  it('create-key, get-parameters-for-import, import-key-material and encrypt run through it; the host route beside it answers', async () => {
    expect((await host.inject({ method: 'GET', url: '/status' })).json()).toEqual({ host: 'mine' });
    const keyId = (await hw('create-key', { key_alias: 'mounted', origin: 'external' })).json().key_info.key_id;
    const p = (await hw('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' })).json();
    const material = new Uint8Array(randomBytes(32));
    const wrapped = Buffer.from(wrapMaterial({ publicKey: p.public_key, algorithm: 'RSAES_OAEP_SHA_256', material })).toString('base64');
    const r = await hw('import-key-material', { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrapped });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['x-request-id']).toBeDefined();
    const enc = (await hw('encrypt-data', { key_id: keyId, plain_text: 'mounted' })).json();
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(enc.cipher_text, 'base64'))).toString()).toBe('mounted');
    // The Tencent dialect is mounted too, over the same keys.
    const t = await host.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json', authorization: 'Bearer tok', 'x-tc-action': 'DescribeKey' }, payload: JSON.stringify({ KeyId: keyId }) });
    expect(t.json().Response.KeyMetadata.KeyState).toBe('Enabled');
    expect(metrics.render()).toMatch(/^byok_import_seconds_count 1$/m);
  });

  it('its own strict validation and errors, whatever the host\'s ajv settings; the host keeps its 404', async () => {
    const extra = await hw('describe-key', { key_id: '00000000-0000-0000-0000-000000000000', colour: 'red' });
    expect([extra.statusCode, extra.json().error.error_code]).toEqual([400, 'KMS.2300']);
    expect(extra.json().error.error_msg).toMatch(/must NOT have additional properties/);
    const coerced = await hw('describe-key', { key_id: '00000000-0000-0000-0000-000000000000', sequence: 12 });
    expect(coerced.json().error.error_msg).toMatch(/must be string/);
    expect((await hw('describe-key', { key_id: '00000000-0000-0000-0000-000000000000' })).json().error.error_code).toBe('KMS.2301');
    const unknown = await host.inject({ method: 'GET', url: '/nowhere' });
    expect([unknown.statusCode, unknown.json().error]).toEqual([404, 'Not Found']);
    // The host's routes keep the host's rules (text bodies, no request ID header from us).
    const echo = await host.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/plain' }, payload: 'plain' });
    expect([echo.statusCode, echo.body, echo.headers['x-request-id']]).toEqual([200, 'plain', undefined]);
  });
});

describe('byok-hsm/server without fastify installed', () => {
  it('imports, and building a server is DEPENDENCY_MISSING naming fastify', () => {
    // A resolve hook that hides fastify, as an install without it would.
    const hook = `export async function resolve(s, c, next) { if (s === 'fastify' || s.startsWith('fastify/')) { const e = new Error("Cannot find package 'fastify' imported from " + c.parentURL); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }`;
    const script = `
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
      const server = await import('./dist/src/server/index.js');
      try {
        await server.createServer({});
        console.log('no error');
      } catch (e) {
        console.log(JSON.stringify({ code: e.code, message: e.message, exported: typeof server.byokService }));
      }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({ code: 'DEPENDENCY_MISSING', message: expect.stringMatching(/'fastify'.*npm install fastify/), exported: 'function' });
  });
});
