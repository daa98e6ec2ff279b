/**
 * PostgreSQL schema migrations, in order. Version N is the N-th entry; an applied version is a
 * row in `byok_schema_migrations`. Never edit an entry once released: add a new one.
 * Each runs in the start-up transaction (PostgreSQL DDL is transactional), so a migration is
 * either wholly applied and recorded or not at all.
 */
import { aliasesTableV1, engineKeyVerifiersTableV1, keysTableV1 } from './keys-table.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'keys and token usage',
    // Same columns as the SQLite store. Prefixed names: the database may be shared with others.
    sql: `
      ${keysTableV1('byok_keys', { integer: 'BIGINT', bytes: 'BYTEA' })}
      CREATE INDEX byok_keys_by_tenant ON byok_keys (tenant, created_at, key_id);
      CREATE TABLE byok_token_usage (
        digest TEXT PRIMARY KEY,
        failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
        used BOOLEAN NOT NULL DEFAULT false,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX byok_token_usage_by_expiry ON byok_token_usage (expires_at);`,
  },
  {
    version: 2,
    name: 'commitments are write-once',
    // Defence in depth across instances: whatever a buggy or old instance sends, a material
    // commitment, once set, can never change or be cleared (only the same material comes back).
    sql: `
      CREATE FUNCTION byok_keep_commitment() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.commitment IS NOT NULL AND NEW.commitment IS DISTINCT FROM OLD.commitment THEN
          RAISE EXCEPTION 'byok: a key''s material commitment is write-once' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER byok_keys_commitment_write_once BEFORE UPDATE ON byok_keys
        FOR EACH ROW EXECUTE FUNCTION byok_keep_commitment();`,
  },
  {
    version: 3,
    name: 'engine key verifiers',
    // The engine keys the key space belongs to (their verifiers), recorded by the first instance.
    sql: engineKeyVerifiersTableV1('byok_engine_key_verifiers', { bytes: 'BYTEA' }),
  },
  {
    version: 4,
    name: 'aliases',
    // Several names per key, each unique in its tenant (the primary key decides a race).
    sql: aliasesTableV1('byok_aliases', { integer: 'BIGINT' }),
  },
];
