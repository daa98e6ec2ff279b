/**
 * Reading keys, for every job of the engine: tenancy (another tenant's key is "not found"),
 * deletion that has come due, and material expiry (an expired key acts as PendingImport and its
 * material is purged on first read).
 */
import type { CryptoBackend } from '../backends/crypto-backend.js';
import { ByokError } from '../errors.js';
import type { KeyRecord, KeyState, KeyStore } from '../store/key-store.js';
import { ALIAS_PREFIX, requireAliasName, requireKeyId, requireTenant } from './input-checks.js';
import type { KeyRef } from './types.js';

function materialExpired(record: KeyRecord, now: number): boolean {
  return typeof record.materialExpiresAt === 'number' && now >= record.materialExpiresAt;
}

/** The state the key acts in at `now`: expired material reads as PendingImport. */
export function effectiveState(record: KeyRecord, now: number): KeyState {
  if (materialExpired(record, now) && (record.state === 'Enabled' || record.state === 'Disabled')) return 'PendingImport';
  return record.state;
}

export class KeyAccess {
  constructor(private readonly store: KeyStore, private readonly backend: CryptoBackend) {}

  /** The key ID a ref names: its own, or the key of the tenant's alias (KEY_NOT_FOUND if none). */
  async keyIdOf(ref: KeyRef): Promise<string> {
    if (typeof ref.keyId !== 'string' || !ref.keyId.startsWith(ALIAS_PREFIX)) return requireKeyId(ref.keyId);
    const alias = await this.store.getAlias(requireTenant(ref.tenant), requireAliasName(ref.keyId));
    if (!alias) throw new ByokError('KEY_NOT_FOUND', 'The alias does not exist.');
    return alias.keyId;
  }

  /** Load a key of this tenant at `now`; purge what has expired. One store read when nothing has (two through an alias). */
  async load(ref: KeyRef, now: number): Promise<KeyRecord> {
    const tenant = requireTenant(ref.tenant);
    const keyId = await this.keyIdOf(ref);
    const record = await this.store.getKey(keyId);
    if (!record || record.tenant !== tenant) throw new ByokError('KEY_NOT_FOUND');
    if (record.state === 'PendingDeletion' && record.deletionDate !== undefined && now >= record.deletionDate) {
      if (record.storedMaterial) await this.backend.destroyPersistedMaterial(record.storedMaterial, keyId);
      await this.store.deleteKey(keyId);
      throw new ByokError('KEY_NOT_FOUND');
    }
    return materialExpired(record, now) ? this.purgeExpiredMaterial(record, now) : record;
  }

  private async purgeExpiredMaterial(record: KeyRecord, now: number): Promise<KeyRecord> {
    let purged: Uint8Array | undefined;
    const updated = await this.store.updateKey(record.keyId, (cur) => {
      if (!materialExpired(cur, now)) return cur;
      purged = cur.storedMaterial;
      return { ...cur, state: effectiveState(cur, now), storedMaterial: undefined, materialExpiresAt: undefined };
    });
    if (purged) await this.backend.destroyPersistedMaterial(purged, record.keyId);
    return updated ?? record;
  }
}
