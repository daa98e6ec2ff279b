/** `byok kat` as a user runs it: the compiled CLI over the vector files (npm test builds dist/ first). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SM2_ADDON_REQUIRED } from './helpers/sm2-engines.js';

const byok = (...args: string[]) => spawnSync(process.execPath, ['bin/byok.js', ...args], { encoding: 'utf8', timeout: 120_000 });

describe('byok kat', () => {
  it('runs every vector file, prints per-file counts and exits 0', () => {
    const r = byok('kat', 'vectors');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/rsa_pkcs1_2048_test\.json \[RsaesPkcs1Decrypt\]: 67 passed, 0 failed/);
    expect(r.stdout).toMatch(/sm2\/vectors\.json \[SM2 PKE \(GM\/T 0003\.4\)\]: 45 passed, 0 failed/);
    expect(r.stdout).toMatch(/^total: \d+ passed, 0 failed$/m);
    // The SM2 engine the vectors ran on is named (the addon wherever npm test built it).
    expect(r.stdout).toMatch(SM2_ADDON_REQUIRED ? /^SM2 engine: openssl-addon \(native-bindings\/sm2 on node's OpenSSL/m : /^SM2 engine: (openssl-addon|typescript) /m);
  });

  it('exits 1 when a case fails (a valid vector whose plaintext was altered)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'byok-kat-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({
      tests: [{ id: 'rfc5649-altered', kek: '5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8', key: '466f7250617368', wrapped: 'afbeb0f07dfbf5419200f2ccb50bb24f', result: 'valid' }],
    }));
    const r = byok('kat', file);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/0 passed, 1 failed/);
    expect(r.stdout).toMatch(/failed rfc5649-altered: wrong plaintext/);
  });

  it('counts an unknown result value as failed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'byok-kat-'));
    const file = join(dir, 'unknown.json');
    writeFileSync(file, JSON.stringify({
      tests: [{ id: 'x', kek: '5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8', key: '466f7250617369', wrapped: 'afbeb0f07dfbf5419200f2ccb50bb24f', result: 'maybe' }],
    }));
    const r = byok('kat', file);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/unknown test result 'maybe'/);
  });

  it('prints usage with --help and exits 2 on an unknown backend', () => {
    expect(byok('kat', '--help').stdout).toMatch(/Usage: byok kat/);
    expect(byok('kat', '--backend', 'nope').status).toBe(2);
  });
});
