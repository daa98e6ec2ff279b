/**
 * Known-answer runner types. Each vector schema has one module in src/kat/ that exports a
 * `KatSchemaRunner`; `byok kat` and the vitest suite share them (src/kat/runner.ts).
 */
import type { KatOperations } from '../backends/kat-operations.js';

export type KatStatus = 'passed' | 'failed' | 'skipped';

export interface KatCaseResult {
  /** e.g. "tcId 17" or the vector's id. */
  readonly id: string;
  readonly status: KatStatus;
  /** Why it failed or was skipped (never key bytes). */
  readonly reason?: string;
}

export interface KatSchemaRunner {
  /** A short name, e.g. "RsaesOaepDecrypt". */
  readonly schema: string;
  /** Does this runner handle the parsed file? (Wycheproof: by `schema` / test type.) */
  matches(file: unknown): boolean;
  /**
   * Run every case. Each case starts as failed and becomes passed only on the expected
   * outcome; a result value it does not know ("unknown test result") stays failed.
   */
  run(file: unknown, ops: KatOperations): Promise<KatCaseResult[]>;
}
