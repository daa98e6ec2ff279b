/**
 * The timing-leak harness in quick mode (CI): it must flag its deliberately early-returning
 * decoder (else a quiet result would mean nothing), and no class of the real code may stay
 * flagged: a suite flagged once is measured again (twice at most, with more samples) and only a
 * flag in every run fails, so a noisy machine does not make this flaky. The README lists a full
 * run's t-values.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

const SUITES = [
  'PKCS#1 v1.5 decoder alone', 'OAEP decoder alone', 'PKCS#1 v1.5 whole unwrap', 'OAEP whole unwrap',
  'two fields (Huawei encrypted_privatekey), 2 KiB second layer', 'two fields (Huawei encrypted_privatekey), 6 KiB second layer',
  'single blob (RSA_AES_KEY_WRAP_SHA_256), 2 KiB second layer', 'single blob (RSA_AES_KEY_WRAP_SHA_256), 6 KiB second layer',
];

it('bench:ct --quick runs every suite (the envelope imports too), its self-check flags the leaky decoder, and no real class stays flagged', () => {
  const r = spawnSync(process.execPath, ['dist/bench/ct.js', '--quick'], { encoding: 'utf8', timeout: 240_000 });
  expect(r.stdout).toContain('self-check: the leaky decoder was flagged');
  for (const suite of SUITES) expect(r.stdout).toContain(suite);
  for (const klass of ['RSA ok, key wrap bad', 'RSA part bad padding', 'RSA part valid, 16-byte key']) expect(r.stdout).toContain(klass);
  expect(r.stdout, r.stdout).toContain('no class of the real code was flagged');
  expect(r.status).toBe(0);
}, 240_000);
