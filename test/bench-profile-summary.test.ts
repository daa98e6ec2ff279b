/**
 * bench/cpu-profile-summary.ts, the summary `byok bench --profile` prints: on a hand-built profile
 * (exact sums, the sample-duration convention, callers' categories, the load window) and on a real
 * profile recorded by the bench's own profiler (test/fixtures/record-import-profile.mjs).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, formatSummary, summarizeProfile } from '../bench/cpu-profile-summary.js';
import type { CpuProfile } from '../bench/thread-profiler.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

// root → storeCall (our SQLite store) → run (native, no url); root → (idle); root → seal → final
const handMade: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4, 5, 7] },
    { id: 2, callFrame: frame('mutateKey', 'file:///x/dist/src/store/sqlite-store.js'), children: [3] },
    { id: 3, callFrame: frame('run') },
    { id: 4, callFrame: frame('(idle)') },
    { id: 5, callFrame: frame('seal', 'file:///x/dist/src/backends/pure/material-seal.js'), children: [6] },
    { id: 6, callFrame: frame('final') },
    { id: 7, callFrame: frame('(garbage collector)') },
  ],
  startTime: 1_000,
  endTime: 1_000 + 100,
  // Timestamps 1000, 1010, 1030, 1060, 1070, 1100: each sample lasts until the next.
  samples: [3, 2, 4, 6, 7, 4],
  timeDeltas: [0, 10, 20, 30, 10, 30],
};

describe('summarizeProfile on a hand-built profile', () => {
  it('gives each sample the time to the next one, and a native frame its caller\'s category', () => {
    const s = summarizeProfile(handMade);
    expect(s.spanMicroseconds).toBe(100);
    expect(Object.fromEntries(s.byCategory)).toEqual({ SQLite: 30, 'idle/waiting': 30, 'AES-GCM': 10, GC: 30 });
    expect(s.functions.find((f) => f.name === 'run')).toEqual({ name: 'run', category: 'SQLite', microseconds: 10 });
    expect(s.functions.find((f) => f.name.startsWith('mutateKey'))).toEqual({ name: 'mutateKey sqlite-store.js:1', category: 'SQLite', microseconds: 20 });
  });

  it('counts only the samples inside the window', () => {
    const s = summarizeProfile(handMade, { from: 1_025, to: 1_065 });
    expect(Object.fromEntries(s.byCategory)).toEqual({ 'idle/waiting': 30, 'AES-GCM': 10 });
    expect(s.spanMicroseconds).toBe(40);
  });

  it('prints µs per operation, busy apart from idle, in plain text', () => {
    const lines = formatSummary('main', summarizeProfile(handMade), 2, 'import');
    expect(lines[0]).toBe('  main: busy 35.0 µs per import, idle 15.0 µs per import (2 imports in 0.00 s)');
    expect(lines[1]).toBe('    by category: SQLite 15.0, GC 15.0, AES-GCM 5.0');
    expect(lines.join('\n')).not.toMatch(/\u001b/);
  });
});

describe('summarizeProfile on a recorded profile (whole imports, one thread, SQLite)', () => {
  const { imports, profile } = JSON.parse(readFileSync(new URL('./fixtures/import-profile.json', import.meta.url), 'utf8')) as { imports: number; profile: CpuProfile };
  const s = summarizeProfile(profile);
  const total = [...s.byCategory.values()].reduce((a, b) => a + b, 0);

  it('accounts for every sampled microsecond, in known categories only', () => {
    const sampled = profile.timeDeltas.slice(1).reduce((a, b) => a + b, 0);
    expect(total).toBe(sampled);
    for (const c of s.byCategory.keys()) expect(CATEGORIES).toContain(c);
    expect(s.functions.reduce((a, f) => a + f.microseconds, 0)).toBe(total);
  });

  it('puts the RSA, the disk flush, the HMACs and the seal where they belong', () => {
    const category = (name: string) => s.functions.find((f) => f.name === name || f.name.startsWith(`${name} `))?.category;
    expect(category('privateDecrypt')).toBe('RSA/OpenSSL native');
    expect(category('fdatasync')).toBe('SQLite');
    expect(category('Hmac')).toBe('hashing/HMAC');
    expect(category('seal')).toBe('AES-GCM');
    expect(category('(garbage collector)')).toBe('GC');
    // The RSA is the largest single function of an import on one thread.
    expect(s.functions[0].name).toBe('privateDecrypt');
    expect(imports).toBeGreaterThan(0);
  });
});
