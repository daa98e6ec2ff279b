/**
 * The known-answer runner shared by `byok kat` and the vitest suite: load vector files exactly
 * as they stand, pick the schema runner that matches each, run it against a backend's
 * KatOperations, and count. A case that no path marks passed stays failed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { KatOperations } from '../backends/kat-operations.js';
import { KAT_SCHEMA_RUNNERS } from './registry.js';
import type { KatCaseResult, KatSchemaRunner } from './types.js';

export interface KatFileReport {
  readonly file: string;
  readonly schema: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly cases: readonly KatCaseResult[];
}

export function findSchemaRunner(file: unknown): KatSchemaRunner | undefined {
  return KAT_SCHEMA_RUNNERS.find((r) => r.matches(file));
}

export function loadVectorFile(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/** True for a JSON file some runner handles (used when a directory is given). */
export function isRunnableVectorFile(path: string): boolean {
  if (!path.endsWith('.json')) return false;
  try {
    return findSchemaRunner(loadVectorFile(path)) !== undefined;
  } catch {
    return false;
  }
}

/** Expand directories (recursively) to the vector files in them that a runner handles. */
export function expandVectorPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      const children = readdirSync(p).sort().map((c) => join(p, c));
      for (const child of children) {
        if (statSync(child).isDirectory()) out.push(...expandVectorPaths([child]));
        else if (isRunnableVectorFile(child)) out.push(child);
      }
    } else {
      out.push(p);
    }
  }
  return out;
}

export async function runVectorFile(path: string, ops: KatOperations): Promise<KatFileReport> {
  const file = loadVectorFile(path);
  const runner = findSchemaRunner(file);
  if (!runner) {
    // A file we cannot interpret is a failure, not a silent pass.
    return { file: path, schema: 'unknown', passed: 0, failed: 1, skipped: 0, cases: [{ id: basename(path), status: 'failed', reason: 'no runner for this vector schema' }] };
  }
  const cases = await runner.run(file, ops);
  const count = (s: KatCaseResult['status']) => cases.filter((c) => c.status === s).length;
  return { file: path, schema: runner.schema, passed: count('passed'), failed: count('failed'), skipped: count('skipped'), cases };
}

/** Header line, then every failed case, then the skipped cases grouped by reason. */
export function formatReport(r: KatFileReport, verbose = false): string {
  const lines = [`${r.file} [${r.schema}]: ${r.passed} passed, ${r.failed} failed` + (r.skipped ? `, ${r.skipped} skipped` : '')];
  for (const c of r.cases) if (c.status === 'failed') lines.push(`  failed ${c.id}${c.reason ? `: ${c.reason}` : ''}`);
  const skippedByReason = new Map<string, string[]>();
  for (const c of r.cases) {
    if (c.status !== 'skipped') continue;
    const reason = c.reason ?? 'no reason given';
    skippedByReason.set(reason, [...(skippedByReason.get(reason) ?? []), c.id]);
  }
  for (const [reason, ids] of skippedByReason) {
    lines.push(`  skipped ${ids.length}: ${reason}` + (verbose ? ` (${ids.join(', ')})` : ''));
  }
  return lines.join('\n');
}
