/**
 * Tenancy: every credential maps to a tenant. Two kinds, one list: API tokens (a bearer token or
 * X-Auth-Token, for the project's own tools) and access keys (ID and secret, for the vendors'
 * request signing). Tokens come as "token=tenant" pairs or from a file (JSON {"token": "tenant"}
 * or token=tenant lines; the JSON form may also hold "accessKeys"); the default file is created
 * on first run with one random admin token that is printed once (config.ts picks the source).
 * Access keys come from "ID:SECRET=tenant" pairs and the auth file. Lookups compare digests in
 * constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { AuthSource } from '../config/config.js';
import { readSecretFile, writeSecretFile } from '../config/secret-file.js';
import { ByokError } from '../errors.js';
import { accessKey, AccessKeys, parseAccessKeys, TENANT_RE, type AccessKey } from './signing/access-keys.js';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * Every credential the service accepts (API tokens and access keys), and the clock that bounds a
 * signed request's age: what each dialect's `authenticate` checks a request against.
 */
export class Credentials {
  private readonly tokens: ReadonlyArray<{ readonly digest: Buffer; readonly tenant: string }>;
  /** The access keys of the request-signing schemes. */
  readonly accessKeys: AccessKeys;
  /** The time signed requests are checked against (the engine's clock). */
  readonly clock: Clock;

  constructor(tokens: ReadonlyMap<string, string>, accessKeys: readonly AccessKey[] = [], clock: Clock = systemClock) {
    this.tokens = [...tokens].map(([token, tenant]) => ({ digest: digest(token), tenant }));
    this.accessKeys = new AccessKeys(accessKeys);
    this.clock = clock;
    if (this.tokens.length === 0 && this.accessKeys.size === 0) throw new ByokError('INVALID_PARAMETER', 'No API tokens or access keys are configured.');
  }

  /** The tenant of an API token; every entry is compared so timing does not tell which matched. */
  tenantOf(token: string | undefined): string {
    if (!token) throw new ByokError('UNAUTHORIZED');
    const d = digest(token);
    let found: string | undefined;
    for (const e of this.tokens) if (timingSafeEqual(e.digest, d)) found = e.tenant;
    if (found === undefined) throw new ByokError('UNAUTHORIZED');
    return found;
  }
}

/** The former name of Credentials (API tokens only). */
export const AuthTokens = Credentials;
/** The former name of Credentials (API tokens only). */
export type AuthTokens = Credentials;

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

/** Credentials loaded, and from where (for the start-up line). */
export interface LoadedAuth {
  /** The API tokens and access keys. */
  readonly tokens: Credentials;
  /** Set only when the file was just created: the admin token, to print once. */
  readonly createdAdminToken?: string;
  readonly source: string;
}

/** The auth file's contents: its tokens and access keys. */
interface AuthFileContents {
  readonly tokens: Map<string, string>;
  readonly accessKeys: AccessKey[];
}

/** `"accessKeys": {"<ID>": {"secret": "…", "tenant": "…", "projectId"?: "…"}}` of a JSON auth file. */
function fileAccessKeys(path: string, value: unknown): AccessKey[] {
  const bad = () => new ByokError('INVALID_PARAMETER', `The auth file ${path}: "accessKeys" must map access key IDs to {"secret", "tenant", "projectId"?}.`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad();
  return Object.entries(value as Record<string, unknown>).map(([id, entry]) => {
    const e = entry as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.secret !== 'string' || typeof e.tenant !== 'string'
      || (e.projectId !== undefined && typeof e.projectId !== 'string') || Object.keys(e).some((k) => !['secret', 'tenant', 'projectId'].includes(k))) throw bad();
    return accessKey(id, e.secret, e.tenant, e.projectId as string | undefined);
  });
}

/** The credentials of an auth file: a secret file, so refused when group or others may read it. */
function readAuthFile(path: string): AuthFileContents {
  const text = readSecretFile(path, 'auth file');
  if (!text.trimStart().startsWith('{')) return { tokens: parseTokenPairs(text), accessKeys: [] };
  let entries: Array<[string, unknown]>;
  try {
    entries = Object.entries(JSON.parse(text) as Record<string, unknown>);
  } catch {
    throw new ByokError('INVALID_PARAMETER', `The auth file ${path} is not valid JSON.`);
  }
  const accessKeys = fileAccessKeys(path, entries.find(([k]) => k === 'accessKeys')?.[1] ?? {});
  const tokens = new Map(entries.filter(([k]) => k !== 'accessKeys').map(([token, tenant]) => {
    if (typeof tenant !== 'string' || !TENANT_RE.test(tenant) || token.length === 0) {
      throw new ByokError('INVALID_PARAMETER', `The auth file ${path} must map tokens to tenant names.`);
    }
    return [token, tenant];
  }));
  return { tokens, accessKeys };
}

/**
 * The credentials of a source (config.ts decides which): given pairs, or a file, created on first
 * run when asked; plus the source's access-key pairs. `clock` bounds signed requests' age.
 */
export function loadAuthTokens(source: AuthSource, clock: Clock = systemClock): LoadedAuth {
  const extraKeys = source.accessKeys !== undefined ? parseAccessKeys(source.accessKeys) : [];
  if ('tokens' in source) {
    return { tokens: new Credentials(parseTokenPairs(source.tokens), extraKeys, clock), source: source.source };
  }
  const path = source.file;
  let createdAdminToken: string | undefined;
  if (source.createIfMissing && !existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const adminToken = randomBytes(24).toString('base64url');
    // Another instance may have created it meanwhile: then its token is the one to use, not ours.
    if (writeSecretFile(path, JSON.stringify({ [adminToken]: 'admin' }, null, 2) + '\n', 'create', 'auth file')) createdAdminToken = adminToken;
  }
  const file = readAuthFile(path);
  return {
    tokens: new Credentials(file.tokens, [...file.accessKeys, ...extraKeys], clock), source: path,
    ...(createdAdminToken ? { createdAdminToken } : {}),
  };
}
