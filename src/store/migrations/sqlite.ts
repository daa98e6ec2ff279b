/**
 * SQLite schema migrations, in order: version N is the N-th entry, and `schema_version` holds
 * how many have run. Never edit an entry once released: add a new one. They run in one
 * BEGIN IMMEDIATE transaction at open, so two processes opening one file take turns.
 */
import { aliasesTableV1, engineKeyVerifiersTableV1, keysTableV1 } from './keys-table.js';

export const SQLITE_MIGRATIONS: readonly string[] = [
  `${keysTableV1('keys', { integer: 'INTEGER', bytes: 'BLOB' })}
      CREATE INDEX keys_by_tenant ON keys (tenant);
      CREATE TABLE token_usage (
        digest TEXT PRIMARY KEY,
        failures INTEGER NOT NULL DEFAULT 0,
        used INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER NOT NULL
      );`,
  // 2. Commitments are write-once, as in PostgreSQL: whatever a buggy or old build writes, a
  // material commitment, once set, never changes or is cleared (only the same material comes back).
  `CREATE TRIGGER keys_commitment_write_once BEFORE UPDATE OF commitment ON keys
        WHEN OLD.commitment IS NOT NULL AND NEW.commitment IS NOT OLD.commitment
      BEGIN
        SELECT RAISE(ABORT, 'byok: a key''s material commitment is write-once');
      END;`,
  // 3. The engine keys the store belongs to (their verifiers), recorded at first use.
  engineKeyVerifiersTableV1('engine_key_verifiers', { bytes: 'BLOB' }),
  // 4. Aliases: several names per key, each unique in its tenant.
  aliasesTableV1('aliases', { integer: 'INTEGER' }),
];
