/**
 * The timing-leak harness in quick mode (CI): it must flag its deliberately early-returning
 * decoder, or a quiet result from it would mean nothing. The t-values of the real decoders are
 * advisory (shared machines are noisy) and not asserted here; the README lists a full run's.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('bench:ct --quick runs every suite and its self-check flags the leaky decoder', () => {
  const r = spawnSync(process.execPath, ['dist/bench/ct.js', '--quick'], { encoding: 'utf8', timeout: 180_000 });
  expect(r.stdout).toContain('self-check: the leaky decoder was flagged');
  for (const suite of ['PKCS#1 v1.5 decoder alone', 'OAEP decoder alone', 'PKCS#1 v1.5 whole unwrap', 'OAEP whole unwrap']) expect(r.stdout).toContain(suite);
  expect(r.status).toBe(0);
}, 180_000);
