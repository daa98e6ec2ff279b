/**
 * Issue 14 defect 4: slow clients are disconnected. With the timeouts set short, sockets whose
 * body trickles a byte a second, whose headers never end, or that never speak are all closed by
 * the server soon after their deadline, while a normal request is still answered.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEngineKeys } from '../src/config/key-files.js';
import { readConfig, serviceConfig } from '../src/config/config.js';
import type { ImportEngine } from '../src/engine/import-engine.js';
import { openEngine } from '../src/open-engine.js';
import { buildServer } from '../src/server/app.js';
import { AuthTokens } from '../src/server/auth.js';
import { openSlowSockets } from './helpers/slow-sockets.js';

let engine: ImportEngine;
let app: ReturnType<typeof buildServer>['app'];
let url: string;
const timeouts = { requestMs: 1500, headersMs: 1000, keepAliveMs: 500, idleMs: 1500 };

beforeAll(async () => {
  engine = await openEngine({ store: 'memory', keys: generateEngineKeys() });
  ({ app } = buildServer({ engine, auth: new AuthTokens(new Map([['tok-a', 'tenant-a']])), logger: pino({ level: 'silent' }), timeouts }));
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
});

describe('HTTP timeouts', () => {
  it('slow-body, never-ending-header and idle sockets are closed; the service still answers', async () => {
    const slow = openSlowSockets(url, 12, '/v1.0/p/kms/describe-key', { 'x-auth-token': 'tok-a' }, 300);
    try {
      const closed = await slow.allClosedWithin(timeouts.requestMs + 3000);
      expect(closed).toBe(12);
      const r = await fetch(`${url}/healthz`);
      expect(r.status).toBe(200);
    } finally {
      slow.stop();
    }
  }, 15_000);

  it('the timeouts are settings with defaults, and a headers timeout over the request timeout is a usage error', () => {
    expect(serviceConfig(readConfig('serve', [], {})).timeouts).toEqual({ requestMs: 30_000, headersMs: 10_000, keepAliveMs: 5_000, idleMs: 60_000 });
    const env = { BYOK_REQUEST_TIMEOUT_MS: '2000', BYOK_HEADERS_TIMEOUT_MS: '1000', BYOK_KEEP_ALIVE_TIMEOUT_MS: '700', BYOK_IDLE_TIMEOUT_MS: '9000' };
    expect(serviceConfig(readConfig('serve', [], env)).timeouts).toEqual({ requestMs: 2000, headersMs: 1000, keepAliveMs: 700, idleMs: 9000 });
    expect(() => readConfig('serve', [], { ...env, BYOK_HEADERS_TIMEOUT_MS: '3000' })).toThrow(/must not exceed/);
  });
});
