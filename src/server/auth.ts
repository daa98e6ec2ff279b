/**
 * Tenancy: an API token maps to a tenant. Tokens come as "token=tenant,token=tenant" pairs or
 * from a file (JSON {"token": "tenant"} or token=tenant lines); the default file is created on
 * first run with one random admin token that is printed once (config.ts picks the source).
 * Lookups compare digests in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuthSource } from '../config/config.js';
import { readSecretFile, writeSecretFile } from '../config/secret-file.js';
import { ByokError } from '../errors.js';

/** API token → tenant, for every dialect's authentication. */
export class AuthTokens {
  private readonly entries: Array<{ digest: Buffer; tenant: string }>;

  constructor(map: ReadonlyMap<string, string>) {
    this.entries = [...map].map(([token, tenant]) => ({ digest: AuthTokens.digest(token), tenant }));
    if (this.entries.length === 0) throw new ByokError('INVALID_PARAMETER', 'No API tokens are configured.');
  }

  private static digest(token: string): Buffer {
    return createHash('sha256').update(token, 'utf8').digest();
  }

  /** The tenant of a token; every entry is compared so timing does not tell which matched. */
  tenantOf(token: string | undefined): string {
    if (!token) throw new ByokError('UNAUTHORIZED');
    const d = AuthTokens.digest(token);
    let found: string | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) found = e.tenant;
    if (found === undefined) throw new ByokError('UNAUTHORIZED');
    return found;
  }
}

const TENANT_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * "token=tenant" pairs, comma- or newline-separated. Split at the last '=': tenant names have
 * none, while a base64 token may end in padding ("c2VjcmV0==team-a").
 */
export function parseTokenPairs(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    const i = part.lastIndexOf('=');
    if (i <= 0 || !TENANT_RE.test(part.slice(i + 1))) {
      throw new ByokError('INVALID_PARAMETER', 'Auth tokens must be token=tenant pairs (tenant: letters, digits, _ . : -).');
    }
    map.set(part.slice(0, i), part.slice(i + 1));
  }
  return map;
}

/** Tokens loaded, and from where (for the start-up line). */
export interface LoadedAuth {
  readonly tokens: AuthTokens;
  /** Set only when the file was just created: the admin token, to print once. */
  readonly createdAdminToken?: string;
  readonly source: string;
}

/** The tokens of an auth file: a secret file, so refused when group or others may read it. */
function readTokenFile(path: string): Map<string, string> {
  const text = readSecretFile(path, 'auth file');
  if (!text.trimStart().startsWith('{')) return parseTokenPairs(text);
  let entries: Array<[string, unknown]>;
  try {
    entries = Object.entries(JSON.parse(text) as Record<string, unknown>);
  } catch {
    throw new ByokError('INVALID_PARAMETER', `The auth file ${path} is not valid JSON.`);
  }
  return new Map(entries.map(([token, tenant]) => {
    if (typeof tenant !== 'string' || !TENANT_RE.test(tenant) || token.length === 0) {
      throw new ByokError('INVALID_PARAMETER', `The auth file ${path} must map tokens to tenant names.`);
    }
    return [token, tenant];
  }));
}

/** The tokens of a source (config.ts decides which): given pairs, or a file, created on first run when asked. */
export function loadAuthTokens(source: AuthSource): LoadedAuth {
  if ('tokens' in source) return { tokens: new AuthTokens(parseTokenPairs(source.tokens)), source: source.source };
  const path = source.file;
  let createdAdminToken: string | undefined;
  if (source.createIfMissing && !existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const adminToken = randomBytes(24).toString('base64url');
    // Another instance may have created it meanwhile: then its token is the one to use, not ours.
    if (writeSecretFile(path, JSON.stringify({ [adminToken]: 'admin' }, null, 2) + '\n', 'create', 'auth file')) createdAdminToken = adminToken;
  }
  return { tokens: new AuthTokens(readTokenFile(path)), source: path, ...(createdAdminToken ? { createdAdminToken } : {}) };
}
