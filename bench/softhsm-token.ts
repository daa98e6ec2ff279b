/** A throw-away SoftHSM2 token for the benchmarks, under a temporary SOFTHSM2_CONF. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPkcs11Module } from '../src/backends/pkcs11/index.js';

export interface BenchToken {
  readonly module: string;
  readonly label: string;
  readonly pin: string;
}

/** A fresh token, or undefined when SoftHSM2 is not installed. */
export function throwAwaySoftHsmToken(label = 'bench'): BenchToken | undefined {
  const module = process.env.BYOK_PKCS11_MODULE ?? findPkcs11Module();
  if (!module) return undefined;
  try {
    execFileSync('sh', ['-c', 'command -v softhsm2-util'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'byok-bench-hsm-'));
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\n`);
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', '5678', '--pin', '1234'], { stdio: 'pipe' });
  return { module, label, pin: '1234' };
}
