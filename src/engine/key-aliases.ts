/**
 * Aliases: `alias/<name>` names for a tenant's keys (AWS's rules: unique in the tenant, several
 * per key, `alias/aws/` reserved), resolved wherever a KeyRef is taken (key-access.ts) and
 * removed with their key by the store.
 */
import { nowSeconds, type Clock } from '../clock.js';
import { ByokError } from '../errors.js';
import type { AliasRecord, KeyStore } from '../store/key-store.js';
import { requireAliasName, requireKeyId, requireTenant } from './input-checks.js';
import type { KeyAccess } from './key-access.js';
import { pageOf } from './pagination.js';
import type { AliasEntry, AliasList, AliasRef, CreateAliasInput, ListAliasesInput } from './types.js';

export interface KeyAliasesParts {
  readonly store: KeyStore;
  readonly keys: KeyAccess;
  readonly clock: Clock;
}

function entry(a: AliasRecord): AliasEntry {
  return { aliasName: a.aliasName, keyId: a.keyId, createdAt: a.createdAt };
}

export class KeyAliases {
  constructor(private readonly parts: KeyAliasesParts) {}

  async createAlias(input: CreateAliasInput): Promise<AliasEntry> {
    const tenant = requireTenant(input.tenant);
    const aliasName = requireAliasName(input.aliasName);
    if (aliasName.startsWith('alias/aws/')) throw new ByokError('INVALID_PARAMETER', 'Alias names that begin with alias/aws/ are reserved.');
    // The target is a key of this tenant, named by its ID (an alias of an alias is refused, as by AWS).
    const now = nowSeconds(this.parts.clock);
    const target = await this.parts.keys.load({ tenant, keyId: requireKeyId(input.keyId) }, now);
    const alias: AliasRecord = { tenant, aliasName, keyId: target.keyId, createdAt: now };
    if (!(await this.parts.store.createAlias(alias))) throw new ByokError('ALIAS_EXISTS');
    return entry(alias);
  }

  async deleteAlias(ref: AliasRef): Promise<void> {
    if (!(await this.parts.store.deleteAlias(requireTenant(ref.tenant), requireAliasName(ref.aliasName)))) {
      throw new ByokError('KEY_NOT_FOUND', 'The alias does not exist.');
    }
  }

  async listAliases(input: ListAliasesInput): Promise<AliasList> {
    const tenant = requireTenant(input.tenant);
    const keyId = input.keyId === undefined ? undefined : await this.parts.keys.keyIdOf({ tenant, keyId: input.keyId });
    const all = (await this.parts.store.listAliases(tenant)).filter((a) => keyId === undefined || a.keyId === keyId);
    const page = pageOf(all, (a) => a.aliasName, input);
    return { aliases: page.items.map(entry), truncated: page.truncated, ...(page.nextMarker !== undefined ? { nextMarker: page.nextMarker } : {}) };
  }
}
