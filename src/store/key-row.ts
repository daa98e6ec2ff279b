/**
 * The `keys` table row shared by the SQL stores (SQLite `keys`, PostgreSQL `byok_keys`: the
 * same columns) and its mapping to a KeyRecord. Integers arrive as numbers from SQLite and as
 * strings from PostgreSQL's BIGINT (pg does not guess at precision); ours are seconds, always
 * safe integers, so Number() serves both.
 */
import type { MaterialSpec } from '../algorithms/specs.js';
import type { KeyOrigin, KeyState } from '../engine/types.js';
import type { KeyRecord } from './key-store.js';

type SqlInteger = number | string;

export interface KeyRow {
  key_id: string; tenant: string; alias: string | null; description: string | null; origin: string;
  material_spec: string; state: string; created_at: SqlInteger; commitment: Buffer | null;
  stored_material: Buffer | null;
  /** NULL: no material; -1: never expires. */
  material_expires_at: SqlInteger | null;
  deletion_date: SqlInteger | null;
}

export function keyRecordFromRow(r: KeyRow): KeyRecord {
  const expires = r.material_expires_at === null ? undefined : Number(r.material_expires_at);
  return {
    keyId: r.key_id,
    tenant: r.tenant,
    ...(r.alias !== null ? { alias: r.alias } : {}),
    ...(r.description !== null ? { description: r.description } : {}),
    origin: r.origin as KeyOrigin,
    materialSpec: r.material_spec as MaterialSpec,
    state: r.state as KeyState,
    createdAt: Number(r.created_at),
    ...(r.commitment ? { commitment: new Uint8Array(r.commitment) } : {}),
    ...(r.stored_material ? { storedMaterial: new Uint8Array(r.stored_material) } : {}),
    ...(expires !== undefined ? { materialExpiresAt: expires === -1 ? null : expires } : {}),
    ...(r.deletion_date !== null ? { deletionDate: Number(r.deletion_date) } : {}),
  };
}
