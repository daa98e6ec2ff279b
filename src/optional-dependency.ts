/**
 * Optional packages (better-sqlite3, pg, fastify, pino, pkcs11js) are loaded only by the part
 * that needs them, so an engine-only install needs neither a native build nor an HTTP server.
 * A missing one becomes a ByokError that names the package to install.
 */
import { ByokError } from './errors.js';

/** Packages the library may load on demand, with what each one is for. */
export const OPTIONAL_PACKAGES = {
  'better-sqlite3': 'the SQLite key store',
  pg: 'the PostgreSQL key store',
  fastify: 'the HTTP service',
  '@fastify/rate-limit': 'the HTTP service\'s per-tenant rate limits',
  '@fastify/static': 'the web console (/console)',
  pino: 'the HTTP service\'s logs',
  pkcs11js: 'the PKCS#11 backend',
  benny: 'byok bench',
} as const;

export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

function isMissing(e: unknown, name: string): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (!err || (err.code !== 'ERR_MODULE_NOT_FOUND' && err.code !== 'MODULE_NOT_FOUND')) return false;
  // Only the package itself missing, not a file inside our own tree or one of its dependencies.
  return typeof err.message === 'string' && (err.message.includes(`'${name}'`) || err.message.includes(`"${name}"`));
}

/**
 * Run `load` (an `import()` of the package or of our module that imports it); a missing
 * package becomes DEPENDENCY_MISSING naming it. Any other failure passes through unchanged.
 */
export async function loadOptional<T>(name: OptionalPackage, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isMissing(e, name)) {
      throw new ByokError('DEPENDENCY_MISSING', `${OPTIONAL_PACKAGES[name]} needs the package '${name}': npm install ${name}`, { cause: e });
    }
    throw e;
  }
}
