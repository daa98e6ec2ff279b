/** `byok` itself: --version from the package, and `byok kat` without paths from anywhere. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = resolve('bin/byok.js');
const byok = (args: string[], cwd = process.cwd()) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, cwd });
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

describe('byok', () => {
  it('--version and -v print the package version, from any working directory', () => {
    for (const flag of ['--version', '-v']) {
      const r = byok([flag], tmpdir());
      expect([r.status, r.stdout, r.stderr]).toEqual([0, `${version}\n`, '']);
    }
  });

  it('kat without paths runs the vectors shipped with the package, not ./vectors', () => {
    const r = byok(['kat'], tmpdir());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/sm2\/vectors\.json \[SM2 PKE \(GM\/T 0003\.4\)\]: 45 passed, 0 failed/);
    expect(r.stdout).toMatch(/^total: \d+ passed, 0 failed$/m);
  });

  it('bench documents --profile DIR, and an option without its value is a usage error, not a full run', () => {
    expect(byok(['bench', '--help']).stdout).toMatch(/--profile DIR runs only the rows whose targets are missed/);
    const r = byok(['bench', '--profile', '--quick']);
    expect([r.status, r.stderr]).toEqual([2, 'byok bench: --profile needs a value\n']);
  });
});
