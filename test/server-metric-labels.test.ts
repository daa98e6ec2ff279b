/**
 * Issue 14 defect 3: metric labels come only from known sets. 2,000 requests with random
 * X-TC-Action headers and random Huawei action paths (authenticated or not) leave /metrics
 * small, every label value one of the dialects' operation names or `unknown`, and no caller
 * text in it.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEngineKeys } from '../src/config/key-files.js';
import type { ImportEngine } from '../src/engine/import-engine.js';
import { openEngine } from '../src/open-engine.js';
import { buildServer } from '../src/server/app.js';
import { AuthTokens } from '../src/server/auth.js';
import { DIALECTS } from '../src/server/dialects/index.js';
import { Metrics, MAX_SERIES } from '../src/server/metrics.js';

let engine: ImportEngine;
let app: ReturnType<typeof buildServer>['app'];

beforeAll(async () => {
  engine = await openEngine({ store: 'memory', keys: generateEngineKeys() });
  ({ app } = buildServer({ engine, auth: new AuthTokens(new Map([['tok-a', 'tenant-a']])), logger: pino({ level: 'silent' }) }));
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
});

/** Every label value of every series in the text. */
function labelValues(text: string): Set<string> {
  const values = new Set<string>();
  for (const m of text.matchAll(/(\w+)="([^"]*)"/g)) values.add(`${m[1]}=${m[2]}`);
  return values;
}

describe('metric labels', () => {
  it('2,000 random actions: /metrics stays small and its labels come from the known sets', async () => {
    const marker = 'zq' + randomBytes(4).toString('hex');
    for (let i = 0; i < 2000; i++) {
      const action = `${marker}${randomBytes(6).toString('base64url')}`;
      const authorized = i % 2 === 0;
      // Valid and broken bodies: a broken one reaches the error handler, not the not-found handler.
      const payload = i % 3 === 0 ? '{' : '{}';
      if (i % 4 < 2) {
        await app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json', 'x-tc-action': action, ...(authorized ? { authorization: 'Bearer tok-a' } : {}) }, payload });
      } else {
        await app.inject({ method: 'POST', url: `/v1.0/p/kms/${action}`, headers: { 'content-type': 'application/json', ...(authorized ? { 'x-auth-token': 'tok-a' } : {}) }, payload });
      }
    }
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).not.toContain(marker);
    expect(text.length).toBeLessThan(16 * 1024);
    const actions = new Set(DIALECTS.flatMap((d) => d.operations.map((o) => o.name)).concat('unknown'));
    for (const v of labelValues(text)) {
      const [name, value] = v.split('=');
      if (name === 'action') expect(actions).toContain(value);
      else if (name === 'dialect') expect(DIALECTS.map((d) => d.name)).toContain(value);
      else if (name === 'status') expect(value).toMatch(/^[1-5][0-9]{2}$/);
      else if (name === 'code') expect(value).toMatch(/^[A-Z_]+$/);
      else expect(name).toBe('le');
    }
  });

  it('a counter holds at most MAX_SERIES series; the rest are counted as dropped', () => {
    const metrics = new Metrics();
    for (let i = 0; i < MAX_SERIES + 100; i++) metrics.countRequest('huawei', `a${i}`, 200);
    const text = metrics.render();
    expect(text.split('\n').filter((l) => l.startsWith('byok_requests_total{')).length).toBe(MAX_SERIES);
    expect(text).toContain('byok_metric_series_dropped_total 100');
  });
});
