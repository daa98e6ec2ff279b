/**
 * The web console at /console: static assets (@fastify/static, an optional peer loaded on demand)
 * under a strict Content-Security-Policy. The page is one HTML file, one stylesheet and one
 * bundled script (scripts/build-console.mjs), and talks only to the Huawei REST routes of the
 * same origin, so the policy allows 'self' and nothing else: no inline script or style, no other
 * host, no framing, no form posts.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { loadOptional } from '../../optional-dependency.js';

/** The console's options; the plugin is registered with a prefix (`/console`). */
export interface ConsolePluginOptions {
  /** The built assets (default: `assets/` beside this module, where the build writes them). */
  readonly root?: string;
}

/**
 * CSP Level 3: `default-src 'none'` denies every fetch directive not named (images, fonts, frames,
 * workers, objects); the page needs only its own script and stylesheet and same-origin fetch.
 * `base-uri`, `form-action` and `frame-ancestors` do not fall back to default-src, so they are named.
 */
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/** Headers of every console response, the 404s included. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // The assets have stable names: the browser revalidates each time (ETag, 304), so an upgrade is never stale.
  'cache-control': 'no-cache',
};

/** Where the build puts the assets: beside the compiled module (dist/src/server/console/assets/). */
function defaultConsoleRoot(): string {
  return fileURLToPath(new URL('./assets/', import.meta.url));
}

/** Serve the console under the plugin's prefix; without built assets, a plain 503 that says so. */
export async function byokConsole(app: FastifyInstance, options: ConsolePluginOptions): Promise<void> {
  const root = options.root ?? defaultConsoleRoot();
  app.addHook('onRequest', async (req, reply) => {
    // The API's answers carry their request ID (the service plugin's onSend); the console's too,
    // so one header ties any answer to its access-log line.
    reply.headers(SECURITY_HEADERS).header('x-request-id', req.id);
  });
  // The page's relative asset URLs need the trailing slash: /console → /console/.
  app.get('', async (_req, reply) => reply.redirect(`${app.prefix}/`, 301));
  if (!existsSync(`${root}/index.html`)) {
    app.log.warn({ root }, 'the console assets are not built (npm run build): /console answers 503');
    app.get('/*', async (_req, reply) => reply.status(503).type('text/plain; charset=utf-8').send('The console is not built: run npm run build.\n'));
    return;
  }
  const { default: fastifyStatic } = await loadOptional('@fastify/static', () => import('@fastify/static'));
  await app.register(fastifyStatic, {
    root, prefix: '/', index: ['index.html'], redirect: true, decorateReply: false, dotfiles: 'deny',
    // The send module's own Cache-Control is replaced by ours (no-cache with ETag revalidation).
    cacheControl: false, etag: true, lastModified: true,
  });
}
