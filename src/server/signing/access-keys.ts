/**
 * Access keys: (access key ID, secret) pairs mapped to a tenant, the one credential list every
 * request-signing scheme checks (Tencent TC3-HMAC-SHA256, Huawei SDK-HMAC-SHA256, AWS SigV4).
 * Configured as "ID:SECRET=tenant" pairs (optionally "ID:SECRET=tenant/project" to bind a Huawei
 * project ID) or in the auth file. Lookups by ID compare digests of every entry in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ByokError } from '../../errors.js';

/** One access key: its ID, secret, tenant, and the Huawei project it is bound to, if any. */
export interface AccessKey {
  readonly id: string;
  readonly secret: string;
  readonly tenant: string;
  /** When set, a Huawei request's {project_id} (and X-Project-Id) must be this. */
  readonly projectId?: string;
}

/** Tenant names: letters, digits, _ . : - (as for API tokens). */
export const TENANT_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Access key IDs: what the vendors issue (AKID…, AKIA…, 20-char Huawei AKs) and more; never ':' or whitespace. */
const ACCESS_KEY_ID_RE = /^[A-Za-z0-9_.+-]{1,128}$/;
/** Huawei project IDs, as the path parameter's pattern. */
const PROJECT_ID_RE = /^[0-9A-Za-z_-]{1,64}$/;

const digest = (id: string) => createHash('sha256').update(id, 'utf8').digest();

/** Checks one access key's fields (the env pairs and the auth file share these rules). */
export function accessKey(id: string, secret: string, tenant: string, projectId?: string): AccessKey {
  if (!ACCESS_KEY_ID_RE.test(id)) throw new ByokError('INVALID_PARAMETER', 'An access key ID must be 1-128 letters, digits or _ . + -.');
  if (secret.length === 0 || /\s/.test(secret)) throw new ByokError('INVALID_PARAMETER', `The secret of access key ${id} must be non-empty, without whitespace.`);
  if (!TENANT_RE.test(tenant)) throw new ByokError('INVALID_PARAMETER', `The tenant of access key ${id} must be letters, digits, _ . : -.`);
  if (projectId !== undefined && !PROJECT_ID_RE.test(projectId)) throw new ByokError('INVALID_PARAMETER', `The project ID of access key ${id} must be 1-64 letters, digits, _ or -.`);
  return { id, secret, tenant, ...(projectId !== undefined ? { projectId } : {}) };
}

/**
 * "ID:SECRET=tenant" pairs (or "ID:SECRET=tenant/project"), comma- or newline-separated. The ID
 * ends at the first ':' (IDs have none), the tenant starts after the last '=' (tenants have none),
 * so a secret may hold ':' or '='.
 */
export function parseAccessKeys(text: string): AccessKey[] {
  const keys: AccessKey[] = [];
  for (const part of text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    const colon = part.indexOf(':');
    const eq = part.lastIndexOf('=');
    if (colon <= 0 || eq <= colon + 1) throw new ByokError('INVALID_PARAMETER', 'Access keys must be ID:SECRET=tenant pairs (or ID:SECRET=tenant/project).');
    const [tenant, projectId, ...more] = part.slice(eq + 1).split('/');
    if (more.length > 0) throw new ByokError('INVALID_PARAMETER', 'Access keys must be ID:SECRET=tenant pairs (or ID:SECRET=tenant/project).');
    keys.push(accessKey(part.slice(0, colon), part.slice(colon + 1, eq), tenant!, projectId));
  }
  return keys;
}

/** The configured access keys, found by ID without telling by timing which entry (if any) matched. */
export class AccessKeys {
  private readonly entries: ReadonlyArray<{ readonly digest: Buffer; readonly key: AccessKey }>;

  constructor(keys: readonly AccessKey[]) {
    const seen = new Set<string>();
    for (const k of keys) {
      if (seen.has(k.id)) throw new ByokError('INVALID_PARAMETER', `The access key ${k.id} is configured twice.`);
      seen.add(k.id);
    }
    this.entries = keys.map((key) => ({ digest: digest(key.id), key }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The key with this ID, or undefined; every entry is compared. */
  find(id: string): AccessKey | undefined {
    const d = digest(id);
    let found: AccessKey | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) found = e.key;
    return found;
  }
}
