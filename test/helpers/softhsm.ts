/**
 * A throw-away SoftHSM2 token: its own SOFTHSM2_CONF and token directory in a temp dir.
 * Without SoftHSM2 the PKCS#11 tests skip with the reason locally, and fail in CI
 * (CI or BYOK_REQUIRE_PKCS11=1), where the issue requires them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPkcs11Module } from '../../src/backends/pkcs11/index.js';

export interface SoftHsmToken {
  readonly module: string;
  readonly label: string;
  readonly pin: string;
  readonly soPin: string;
  readonly conf: string;
}

export const PKCS11_REQUIRED = Boolean(process.env.CI) || process.env.BYOK_REQUIRE_PKCS11 === '1';

let shared: SoftHsmToken | undefined;

function softHsmTools(): { module: string; util: string } | undefined {
  const module = process.env.BYOK_PKCS11_MODULE ?? findPkcs11Module();
  let util = '';
  try {
    util = execFileSync('sh', ['-c', 'command -v softhsm2-util'], { encoding: 'utf8' }).trim();
  } catch { /* absent */ }
  return module && existsSync(module) && util ? { module, util } : undefined;
}

const NOT_INSTALLED = 'SoftHSM2 is not installed (apt-get install -y softhsm2 opensc)';

/**
 * Why SoftHSM2 cannot run here, known when the tests are collected (for `describe.skipIf`), or
 * undefined. Where PKCS#11 is required this throws instead: a missing device fails the file.
 */
export function softHsmUnavailable(): string | undefined {
  if (softHsmTools()) return undefined;
  if (PKCS11_REQUIRED) throw new Error(`PKCS#11 tests are required here, but ${NOT_INSTALLED}`);
  return NOT_INSTALLED;
}

/** A fresh token (or the reason there is none). Sets SOFTHSM2_CONF for this process. */
export function createSoftHsmToken(label = 'byok-test'): SoftHsmToken | { skip: string } {
  const tools = softHsmTools();
  if (!tools) {
    if (PKCS11_REQUIRED) throw new Error(`PKCS#11 tests are required here, but ${NOT_INSTALLED}`);
    return { skip: NOT_INSTALLED };
  }
  const { module, util } = tools;
  if (!process.env.SOFTHSM2_CONF || !shared) {
    const dir = mkdtempSync(join(tmpdir(), 'byok-softhsm-'));
    mkdirSync(join(dir, 'tokens'));
    const conf = join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env.SOFTHSM2_CONF = conf;
  }
  const pin = '1234', soPin = '5678';
  const tokenLabel = `${label}-${Math.random().toString(36).slice(2, 8)}`;
  execFileSync(util, ['--init-token', '--free', '--label', tokenLabel, '--so-pin', soPin, '--pin', pin], { env: process.env, stdio: 'pipe' });
  shared = { module, label: tokenLabel, pin, soPin, conf: process.env.SOFTHSM2_CONF! };
  return shared;
}
