/**
 * CI's fuzz smoke: every target replays its committed corpus (seeds and the inputs of fixed
 * crashes) and then fuzzes for a few seconds; any crash, hang or blow-up fails. The self-check
 * proves the loop finds a planted bug behind a 4-byte magic (coverage guidance) and a hang.
 * Runs the compiled runner (dist/test/fuzz/run.js), which `npm test` builds first.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const SECONDS = process.env.FUZZ_SMOKE_SECONDS ?? '2';
const run = (args: string[]) => spawnSync(process.execPath, ['dist/test/fuzz/run.js', ...args], { encoding: 'utf8', timeout: 230_000 });

describe('fuzz smoke', () => {
  it('every target replays its corpus and fuzzes without a crash', () => {
    const r = run(['--seconds', SECONDS, '--seed', '20240901']);
    expect(r.stdout + r.stderr, 'fuzz output').toContain('fuzz: no crashes');
    expect(r.status).toBe(0);
    const targets = readdirSync('test/fuzz/targets').filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
    expect(targets.length).toBeGreaterThanOrEqual(7);
    for (const t of targets) {
      const line = new RegExp(`^${t}: (\\d+) execs \\((\\d+) replayed\\)`, 'm').exec(r.stdout);
      expect(line, `${t} ran`).not.toBeNull();
      const corpus = readdirSync(`test/fuzz/corpus/${t}`).length;
      expect(Number(line![2]), `${t} replayed its whole corpus`).toBeGreaterThanOrEqual(corpus);
      expect(Number(line![1])).toBeGreaterThan(corpus);
      // The summary reports the rate and the coverage reached (lines run / lines of the files reached).
      const coverage = new RegExp(`^${t}: .* [\\d.]+ exec/s, .*lines (\\d+)/(\\d+) `, 'm').exec(r.stdout);
      expect(coverage, `${t} reports exec/s and lines`).not.toBeNull();
      expect(Number(coverage![1])).toBeGreaterThan(0);
      expect(Number(coverage![1])).toBeLessThanOrEqual(Number(coverage![2]));
    }
  }, 120_000);

  // The loop stops at the first find, so a long budget costs nothing when the check passes; it is
  // long because a loaded machine runs few executions a second (30 s once found nothing at load 17).
  it('the self-check finds a planted bug and a planted hang', () => {
    const r = run(['--selftest', '--seconds', '100', '--seed', '3']);
    expect(r.stdout).toMatch(/selftest-magic: found \(exception\)/);
    expect(r.stdout).toMatch(/selftest-hang: found \(timeout\)/);
    expect(r.status).toBe(0);
  }, 240_000);
});
