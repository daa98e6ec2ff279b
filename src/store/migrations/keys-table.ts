/**
 * Version 1 of the keys table, the one definition behind both dialects' first migration (SQLite
 * `keys`, PostgreSQL `byok_keys`): the same columns, with each dialect's integer and byte types.
 * Frozen like the migrations that use it: a change to the table is a new migration.
 */
export interface SqlTypes {
  readonly integer: string;
  readonly bytes: string;
}

export function keysTableV1(table: string, types: SqlTypes): string {
  return `CREATE TABLE ${table} (
        key_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        alias TEXT,
        description TEXT,
        origin TEXT NOT NULL,
        material_spec TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at ${types.integer} NOT NULL,
        commitment ${types.bytes},
        stored_material ${types.bytes},
        material_expires_at ${types.integer}, -- NULL: no material; -1: never expires
        deletion_date ${types.integer}
      );`;
}

/**
 * Version 1 of the engine-key verifiers table (SQLite `engine_key_verifiers`, PostgreSQL
 * `byok_engine_key_verifiers`): one row a key the store has been used with, its MAC of a fixed
 * label, never the key. Rows are only ever added.
 */
export function engineKeyVerifiersTableV1(table: string, types: Pick<SqlTypes, 'bytes'>): string {
  return `CREATE TABLE ${table} (
        role TEXT NOT NULL CHECK (role IN ('commitment', 'master', 'token-sealing')),
        key_id TEXT NOT NULL,
        verifier ${types.bytes} NOT NULL,
        PRIMARY KEY (role, key_id)
      );`;
}

/**
 * Version 1 of the aliases table (SQLite `aliases`, PostgreSQL `byok_aliases`): alias names are
 * unique per tenant, a key may have several; the stores delete a key's aliases with the key.
 */
export function aliasesTableV1(table: string, types: Pick<SqlTypes, 'integer'>): string {
  return `CREATE TABLE ${table} (
        tenant TEXT NOT NULL,
        alias_name TEXT NOT NULL,
        key_id TEXT NOT NULL,
        created_at ${types.integer} NOT NULL,
        PRIMARY KEY (tenant, alias_name)
      );
      CREATE INDEX ${table}_by_key ON ${table} (key_id);`;
}
