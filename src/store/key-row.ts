/**
 * The `keys` table row shared by the SQL stores (SQLite `keys`, PostgreSQL `byok_keys`: the
 * same columns) and its mapping to and from a KeyRecord. Integers arrive as numbers from SQLite
 * and as strings from PostgreSQL's BIGINT (pg does not guess at precision); ours are seconds,
 * always safe integers, so Number() serves both.
 */
import type { MaterialSpec } from '../algorithms/specs.js';
import type { AliasRecord, EngineKeyRole, EngineKeyVerifier, KeyOrigin, KeyRecord, KeyState } from './key-store.js';

type SqlInteger = number | string;

export interface KeyRow {
  key_id: string; tenant: string; alias: string | null; description: string | null; origin: string;
  material_spec: string; state: string; created_at: SqlInteger; commitment: Buffer | null;
  stored_material: Buffer | null;
  /** NULL: no material; -1: never expires. */
  material_expires_at: SqlInteger | null;
  deletion_date: SqlInteger | null;
}

/** The columns in table order; `key_id` first (the stores' UPDATE sets the others). */
export const KEY_COLUMNS = [
  'key_id', 'tenant', 'alias', 'description', 'origin', 'material_spec', 'state', 'created_at', 'commitment', 'stored_material',
  'material_expires_at', 'deletion_date',
] as const satisfies ReadonlyArray<keyof KeyRow>;

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

/** A KeyRecord as the row's values (both drivers take Buffers for the byte columns). */
export function keyRowFromRecord(k: KeyRecord): KeyRow {
  return {
    key_id: k.keyId, tenant: k.tenant, alias: k.alias ?? null, description: k.description ?? null,
    origin: k.origin, material_spec: k.materialSpec, state: k.state, created_at: k.createdAt,
    commitment: k.commitment ? Buffer.from(k.commitment) : null,
    stored_material: k.storedMaterial ? Buffer.from(k.storedMaterial) : null,
    material_expires_at: k.materialExpiresAt === undefined ? null : k.materialExpiresAt === null ? -1 : k.materialExpiresAt,
    deletion_date: k.deletionDate ?? null,
  };
}

/** An engine-key verifier row (both SQL stores). */
export interface VerifierRow {
  role: string; key_id: string; verifier: Buffer;
}

export function verifierFromRow(r: VerifierRow): EngineKeyVerifier {
  return { role: r.role as EngineKeyRole, keyId: r.key_id, verifier: new Uint8Array(r.verifier) };
}

/** An alias row (both SQL stores). */
export interface AliasRow {
  tenant: string; alias_name: string; key_id: string; created_at: SqlInteger;
}

export function aliasFromRow(r: AliasRow): AliasRecord {
  return { tenant: r.tenant, aliasName: r.alias_name, keyId: r.key_id, createdAt: Number(r.created_at) };
}
