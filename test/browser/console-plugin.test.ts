/**
 * The console plugin in process: the security headers on every answer, the redirect to the
 * trailing slash, a clear 503 when the assets are not built, and BYOK_CONSOLE turning it off.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig, serviceConfig } from '../../src/config/config.js';
import { generateEngineKeys } from '../../src/config/key-files.js';
import { openEngine } from '../../src/open-engine.js';
import { buildServer } from '../../src/server/app.js';
import { AuthTokens } from '../../src/server/auth.js';
import { byokConsole, CONSOLE_CSP } from '../../src/server/console/console-plugin.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function consoleApp(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'byok-console-assets-'));
  dirs.push(root);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), content);
  const app = Fastify({ logger: false });
  await app.register(byokConsole, { prefix: '/console', root });
  await app.ready();
  return app;
}

describe('the console plugin', () => {
  it('serves the assets under the prefix with the CSP, nosniff, no-referrer and no-cache, 404s included', async () => {
    const app = await consoleApp({ 'index.html': '<!doctype html><title>t</title>', 'console.js': 'export {};' });
    for (const [url, status, type] of [['/console/', 200, 'text/html'], ['/console/console.js', 200, 'application/javascript'], ['/console/nope.css', 404, '']] as const) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(status);
      if (type) expect(res.headers['content-type']).toContain(type);
      expect(res.headers).toMatchObject({
        'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY', 'cache-control': 'no-cache',
      });
      // Every answer names its request, as the API's do.
      expect(res.headers['x-request-id'], url).toMatch(/^\S+$/);
    }
    expect(CONSOLE_CSP).toContain("default-src 'none'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe|https?:|\*/);
    const redirect = await app.inject({ url: '/console' });
    expect([redirect.statusCode, redirect.headers.location]).toEqual([301, '/console/']);
    // Revalidation: the ETag answers 304.
    const first = await app.inject({ url: '/console/console.js' });
    const again = await app.inject({ url: '/console/console.js', headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.statusCode).toBe(304);
    await app.close();
  });

  it('answers a plain 503 that says what to do when the assets are not built', async () => {
    const app = await consoleApp({});
    const res = await app.inject({ url: '/console/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe('The console is not built: run npm run build.\n');
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    await app.close();
  });

  it('is on by default for byok serve, off with BYOK_CONSOLE=false, and off in buildServer unless asked for', async () => {
    expect(serviceConfig(readConfig('serve', [], {})).console).toBe(true);
    expect(serviceConfig(readConfig('serve', [], { BYOK_CONSOLE: 'false' })).console).toBe(false);
    const engine = await openEngine({ store: 'memory', keys: generateEngineKeys() });
    const auth = new AuthTokens(new Map([['t', 'tenant']]));
    const logger = pino({ level: 'silent' });
    try {
      const off = buildServer({ engine, auth, logger }).app;
      const on = buildServer({ engine, auth, logger, console: true }).app;
      expect((await off.inject({ url: '/console/' })).statusCode).toBe(404);
      expect((await on.inject({ url: '/console' })).statusCode).toBe(301);
      await Promise.all([off.close(), on.close()]);
    } finally {
      await engine.close();
    }
  });
});
