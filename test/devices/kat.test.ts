/**
 * `byok kat --backend pkcs11 vectors` on every device, as an operator runs it (the compiled CLI;
 * npm test builds dist/ first): every vector file the package ships, each skip with its reason.
 * SoftHSM2 and NSS softoken pass outright. opencryptoki 3.8 fails exactly one case per PKCS#1
 * v1.5 file, a device bug measured here: it decrypts an empty message to one 00 byte
 * (Wycheproof tcId 1).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEVICES, deviceCli } from '../helpers/devices.js';

function kat(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['bin/byok.js', 'kat', ...args, 'vectors'], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
}

/** Every line the runner printed, sorted into what a reader checks. */
function lines(stdout: string) {
  const all = stdout.split('\n').filter(Boolean);
  return {
    files: all.filter((l) => l.startsWith('vectors/')),
    failed: all.filter((l) => /^\s+failed /.test(l)),
    skipped: all.filter((l) => /^\s+skipped /.test(l)),
    total: all.find((l) => l.startsWith('total: ')),
  };
}

for (const device of DEVICES) describe.skipIf(device.unavailable() !== undefined)(`byok kat --backend pkcs11 vectors (${device.name})`, () => {
  it(device.id === 'opencryptoki'
    ? 'runs every vector file; fails only Wycheproof tcId 1 of each PKCS#1 v1.5 file (the device\'s empty-message bug); every skip named'
    : 'runs every vector file and passes, every skip named', () => {
    const { args, env } = deviceCli(device.token('kat'), 'kat');
    const r = kat(args, env);
    expect(r.stderr).toBe('');
    const out = lines(r.stdout);
    expect(out.files.length).toBeGreaterThanOrEqual(15);
    // A skip always says why: "skipped N: <reason>", never a bare count.
    for (const s of out.skipped) expect(s).toMatch(/^\s+skipped \d+: \S.{10,}/);
    if (device.id === 'opencryptoki') {
      expect(r.status).toBe(1);
      expect(out.failed).toEqual(Array(3).fill('  failed tcId 1: wrong plaintext'));
      expect(out.files.filter((f) => / [1-9]\d* failed/.test(f)).map((f) => f.split(' ')[0])).toEqual([
        'vectors/wycheproof/rsa_pkcs1_2048_test.json', 'vectors/wycheproof/rsa_pkcs1_3072_test.json', 'vectors/wycheproof/rsa_pkcs1_4096_test.json',
      ]);
    } else {
      expect(out.failed, r.stdout).toEqual([]);
      expect(r.status).toBe(0);
      expect(out.total).toMatch(/^total: \d+ passed, 0 failed/);
    }
  });
});
