/**
 * The key life cycle: create (an external key awaiting material, or a KMS key with material the
 * backend makes), describe, list, and the state changes of state-machine.ts — each one atomic
 * store write, with the material it removes destroyed after the write.
 */
import { randomUUID } from 'node:crypto';
import { MATERIAL_SPECS, parseMaterialSpec } from '../algorithms/specs.js';
import type { CryptoBackend } from '../backends/crypto-backend.js';
import { nowSeconds, type Clock } from '../clock.js';
import { ByokError } from '../errors.js';
import type { KeyRecord, KeyState, KeyStore } from '../store/key-store.js';
import type { AuditDetails } from './audit.js';
import type { Commitments } from './commitments.js';
import { requireTenant } from './input-checks.js';
import { effectiveState, type KeyAccess } from './key-access.js';
import { transition, type KeyOperation } from './state-machine.js';
import { pageOf } from './pagination.js';
import type { CreateKeyInput, KeyList, KeyMetadata, KeyRef, ListKeysInput, ScheduleDeletionInput } from './types.js';

const DAY = 86400;

export interface KeyLifecycleParts {
  readonly backend: CryptoBackend;
  readonly store: KeyStore;
  readonly keys: KeyAccess;
  readonly commitments: Commitments;
  readonly clock: Clock;
}

type Patch = (current: KeyRecord, state: KeyState, now: number) => KeyRecord;

export class KeyLifecycle {
  constructor(private readonly parts: KeyLifecycleParts) {}

  async createKey(input: CreateKeyInput, audit: AuditDetails): Promise<KeyMetadata> {
    const { backend, store, commitments } = this.parts;
    const now = nowSeconds(this.parts.clock);
    const tenant = requireTenant(input.tenant);
    const origin = input.origin ?? 'EXTERNAL';
    if (origin !== 'EXTERNAL' && origin !== 'KMS') throw new ByokError('INVALID_PARAMETER', 'origin must be EXTERNAL or KMS.');
    if (input.keySpec !== undefined && input.materialSpec !== undefined && parseMaterialSpec(input.keySpec) !== parseMaterialSpec(input.materialSpec)) {
      throw new ByokError('INVALID_PARAMETER', 'keySpec and materialSpec name different specs.');
    }
    const materialSpec = parseMaterialSpec(input.keySpec ?? input.materialSpec ?? 'AES_256');
    const unsupported = backend.unsupportedReason({ materialSpec });
    if (unsupported !== undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', unsupported);
    for (const [field, v] of [['alias', input.alias], ['description', input.description]] as const) {
      if (v !== undefined && (typeof v !== 'string' || v.length > 255)) throw new ByokError('INVALID_PARAMETER', `${field} must be a string of at most 255 characters.`);
    }
    const keyId = randomUUID();
    audit.keyId = keyId;
    let record: KeyRecord = {
      keyId, tenant, origin, materialSpec, state: 'PendingImport', createdAt: now,
      ...(input.alias !== undefined ? { alias: input.alias } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
    };
    if (origin === 'KMS') {
      const handle = await backend.generateMaterial(materialSpec);
      try {
        record = {
          ...record, state: 'Enabled', commitment: await commitments.commitmentFor(handle, keyId),
          storedMaterial: await backend.persistMaterial(handle, keyId), materialExpiresAt: null,
        };
      } finally {
        await backend.release(handle);
      }
    }
    await store.createKey(record);
    return this.metadata(record, now);
  }

  async describeKey(ref: KeyRef): Promise<KeyMetadata> {
    const now = nowSeconds(this.parts.clock);
    return this.metadata(await this.parts.keys.load(ref, now), now);
  }

  async listKeys(tenant: string): Promise<KeyMetadata[]> {
    const records = await this.parts.store.listKeys(requireTenant(tenant));
    const now = nowSeconds(this.parts.clock);
    return records.map((r) => this.metadata(r, now));
  }

  /** One page, oldest first (creation time, then key ID: a marker stays valid as keys come and go). */
  async listKeysPage(input: ListKeysInput): Promise<KeyList> {
    const all = (await this.listKeys(input.tenant)).filter((m) => (input.keyState === undefined || m.state === input.keyState) && (input.keySpec === undefined || m.keySpec === input.keySpec));
    const page = pageOf(all, (m) => `${String(m.createdAt).padStart(12, '0')}:${m.keyId}`, input);
    return { keys: page.items, truncated: page.truncated, total: all.length, ...(page.nextMarker !== undefined ? { nextMarker: page.nextMarker } : {}) };
  }

  deleteKeyMaterial(ref: KeyRef): Promise<KeyMetadata> {
    // The commitment stays: only the same material may ever come back.
    return this.stateChange('deleteMaterial', ref, (cur, state) => ({ ...cur, state, storedMaterial: undefined, materialExpiresAt: undefined }));
  }

  enableKey(ref: KeyRef): Promise<KeyMetadata> {
    return this.stateChange('enable', ref);
  }

  disableKey(ref: KeyRef): Promise<KeyMetadata> {
    return this.stateChange('disable', ref);
  }

  async scheduleKeyDeletion(input: ScheduleDeletionInput): Promise<KeyMetadata> {
    const days = input.pendingDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 1096) throw new ByokError('INVALID_PARAMETER', 'pendingDays must be an integer from 7 to 1096.');
    return this.stateChange('scheduleDeletion', input, (cur, state, now) => ({ ...cur, state, deletionDate: now + days * DAY }));
  }

  cancelKeyDeletion(ref: KeyRef): Promise<KeyMetadata> {
    return this.stateChange('cancelDeletion', ref, (cur, state) => ({
      ...cur, deletionDate: undefined, state: cur.storedMaterial ? state : 'PendingImport',
    }));
  }

  /** One transition as one atomic write; material the write drops is destroyed after it. */
  private async stateChange(operation: KeyOperation, ref: KeyRef, patch: Patch = (cur, state) => ({ ...cur, state })): Promise<KeyMetadata> {
    const { backend, store, keys } = this.parts;
    const now = nowSeconds(this.parts.clock);
    const loaded = await keys.load(ref, now);
    if (operation === 'deleteMaterial' && loaded.origin !== 'EXTERNAL') throw new ByokError('NOT_EXTERNAL_KEY');
    let removed: Uint8Array | undefined;
    const updated = await store.updateKey(loaded.keyId, (cur) => {
      const next = patch(cur, transition(operation, effectiveState(cur, now)), now);
      removed = cur.storedMaterial !== next.storedMaterial ? cur.storedMaterial : undefined;
      return next;
    });
    if (!updated) throw new ByokError('KEY_NOT_FOUND');
    if (removed) await backend.destroyPersistedMaterial(removed, loaded.keyId);
    return this.metadata(updated, now);
  }

  private metadata(record: KeyRecord, now: number): KeyMetadata {
    return {
      keyId: record.keyId,
      tenant: record.tenant,
      ...(record.alias !== undefined ? { alias: record.alias } : {}),
      ...(record.description !== undefined ? { description: record.description } : {}),
      origin: record.origin,
      materialSpec: record.materialSpec,
      keySpec: record.materialSpec,
      keyUsage: MATERIAL_SPECS[record.materialSpec].usage,
      state: effectiveState(record, now),
      createdAt: record.createdAt,
      ...(record.storedMaterial ? { materialExpiresAt: record.materialExpiresAt ?? null } : {}),
      ...(record.deletionDate !== undefined ? { deletionDate: record.deletionDate } : {}),
      ...(record.commitment ? { keyCheckValue: this.parts.commitments.keyCheckValue(record.commitment) } : {}),
    };
  }
}
