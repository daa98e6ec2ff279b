/**
 * SQLite schema migrations, in order: version N is the N-th entry, and `schema_version` holds
 * how many have run. Never edit an entry once released: add a new one. They run in one
 * BEGIN IMMEDIATE transaction at open, so two processes opening one file take turns.
 */
import { keysTableV1 } from './keys-table.js';

export const SQLITE_MIGRATIONS: readonly string[] = [
  `${keysTableV1('keys', { integer: 'INTEGER', bytes: 'BLOB' })}
      CREATE INDEX keys_by_tenant ON keys (tenant);
      CREATE TABLE token_usage (
        digest TEXT PRIMARY KEY,
        failures INTEGER NOT NULL DEFAULT 0,
        used INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER NOT NULL
      );`,
];
