/**
 * The PKCS#11 devices of this machine, each with what a test needs to open it: module path, token
 * label, PIN, C_Initialize library parameters, and whether CI requires it.
 *
 * - SoftHSM2: a fresh token per call under this process's SOFTHSM2_CONF (softhsm.ts).
 * - NSS softoken (libsoftokn3.so): a throw-away database made by `certutil -N` with a PIN, opened
 *   with library parameters (configdir=…). One C_Initialize per module per process means one
 *   database per process: every call in a process returns the same token.
 * - opencryptoki's software token: system-wide (pkcsslotd, /var/lib/opencryptoki/swtok), set up
 *   by .ci/opencryptoki-token.sh with the label and PINs below. Shared by every test process:
 *   tests must not assume it is empty, and must never make its logins fail.
 *
 * Each device also has a PIN token (`pinToken`), on which tests may spend wrong logins: SoftHSM2's
 * and NSS's are as above (their own to each process), opencryptoki's is a second software token
 * (slot 5, /var/lib/opencryptoki/byokpin, .ci/opencryptoki-pin-token.sh). opencryptoki 3.8 keeps
 * one login state per process for all the tokens of one STDLL (libpkcs11_sw.so's
 * global_login_state, measured: a login on byok-ock makes byok-ock-pin answer
 * CKR_USER_ALREADY_LOGGED_IN, a logout on either logs out both), so a test process opens one of
 * the two opencryptoki tokens, never both.
 *
 * A device missing where it is required (CI, or its BYOK_REQUIRE_* variable) throws when the
 * tests are collected, as softHsmUnavailable does; elsewhere the tests skip with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pkcs11BackendOptions } from '../../src/backends/pkcs11/options.js';
import { createSoftHsmToken, PKCS11_REQUIRED, softHsmUnavailable } from './softhsm.js';

export type DeviceId = 'softhsm2' | 'nss' | 'opencryptoki';

/** An opened-able token: everything createPkcs11Backend (or a second pkcs11js handle) needs. */
export interface DeviceToken {
  readonly device: DeviceId;
  readonly module: string;
  readonly label: string;
  readonly pin: string;
  /** The security officer's PIN, where the device has one (C_InitPIN resets the user PIN and its counts). */
  readonly soPin?: string;
  readonly libraryParameters?: string;
  /**
   * What the start-up check finds about CKA_UNWRAP_TEMPLATE (measured): SoftHSM2 enforces it, NSS
   * takes it and ignores it, opencryptoki 3.8 refuses the attribute. Only an enforcing device
   * opens under the default policy; the others are opened with `best-effort`.
   */
  readonly unwrapTemplate: 'enforced' | 'not-enforced' | 'not-accepted';
}

export interface DeviceEntry {
  readonly id: DeviceId;
  /** For test titles: `pkcs11 (${name})`. */
  readonly name: string;
  /** What the start-up check finds about CKA_UNWRAP_TEMPLATE on this device (measured; see DeviceToken). */
  readonly unwrapTemplate: DeviceToken['unwrapTemplate'];
  /** CI (or the device's BYOK_REQUIRE_* variable) requires it: missing is a failure, not a skip. */
  readonly required: boolean;
  /** Why the device cannot run here, or undefined; throws where it is required. Memoised. */
  unavailable(): string | undefined;
  /** A token to open (fresh for SoftHSM2; the process's database for NSS; the shared swtok). */
  token(label?: string): DeviceToken;
  /** Why the PIN token cannot run here, or undefined; throws where the device is required. Memoised. */
  pinTokenUnavailable(): string | undefined;
  /** A token whose logins a test may make fail (fresh for SoftHSM2; the process's database for NSS; byok-ock-pin). */
  pinToken(): DeviceToken;
}

const CI = Boolean(process.env.CI);
export const NSS_REQUIRED = CI || process.env.BYOK_REQUIRE_NSS === '1';
export const OPENCRYPTOKI_REQUIRED = CI || process.env.BYOK_REQUIRE_OPENCRYPTOKI === '1';

export const NSS_MODULE = process.env.BYOK_NSS_MODULE ?? '/usr/lib/x86_64-linux-gnu/libsoftokn3.so';
export const OPENCRYPTOKI_MODULE = process.env.BYOK_OPENCRYPTOKI_MODULE ?? '/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so';
/** What .ci/opencryptoki-token.sh sets (swtok allows PINs of 4 to 8 characters). */
export const OPENCRYPTOKI_TOKEN = { label: 'byok-ock', pin: '23456789', soPin: '76543210' } as const;
/** What .ci/opencryptoki-pin-token.sh sets: the PIN-state tests' token, the same PINs. */
export const OPENCRYPTOKI_PIN_TOKEN = { label: 'byok-ock-pin', pin: '23456789', soPin: '76543210' } as const;

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function memo(fn: () => string | undefined): () => string | undefined {
  let done = false;
  let value: string | undefined;
  return () => {
    if (!done) {
      value = fn();
      done = true;
    }
    return value;
  };
}

/** The reason, or a throw where the device is required. */
function decide(name: string, required: boolean, reason: string | undefined): string | undefined {
  if (reason !== undefined && required) throw new Error(`${name} tests are required here, but ${reason}`);
  return reason;
}

const softhsm2: DeviceEntry = {
  id: 'softhsm2',
  name: 'SoftHSM2',
  unwrapTemplate: 'enforced',
  required: PKCS11_REQUIRED,
  unavailable: memo(() => softHsmUnavailable()),
  token(label = 'byok-test') {
    const t = createSoftHsmToken(label);
    if ('skip' in t) throw new Error(t.skip);
    return { device: 'softhsm2', module: t.module, label: t.label, pin: t.pin, soPin: t.soPin, unwrapTemplate: softhsm2.unwrapTemplate };
  },
  pinTokenUnavailable: () => softhsm2.unavailable(),
  pinToken: () => softhsm2.token('pin'),
};

let nssToken: DeviceToken | undefined;
const nss: DeviceEntry = {
  id: 'nss',
  name: 'NSS softoken',
  unwrapTemplate: 'not-enforced',
  required: NSS_REQUIRED,
  unavailable: memo(() => decide('NSS softoken', NSS_REQUIRED,
    !existsSync(NSS_MODULE) ? `NSS's softoken is not at ${NSS_MODULE} (apt-get install -y libnss3)`
      : !onPath('certutil') ? 'certutil is not installed (apt-get install -y libnss3-tools)' : undefined)),
  token() {
    if (nssToken) return nssToken;
    const reason = nss.unavailable();
    if (reason) throw new Error(reason);
    const dir = mkdtempSync(join(tmpdir(), 'byok-nss-'));
    const pin = 'nss-user-pin';
    writeFileSync(join(dir, 'pin.txt'), `${pin}\n`, { mode: 0o600 });
    execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '-f', join(dir, 'pin.txt')], { stdio: 'pipe' });
    // The label of the key-database token is dbTokenDescription (32 characters at most).
    const label = `byok-nss-${process.pid}`;
    nssToken = {
      device: 'nss', module: NSS_MODULE, label, pin, unwrapTemplate: nss.unwrapTemplate,
      libraryParameters: `configdir='sql:${dir}' certPrefix='' keyPrefix='' secmod='secmod.db' flags=optimizeSpace dbTokenDescription='${label}'`,
    };
    return nssToken;
  },
  // NSS keeps no retry count (measured: any number of wrong logins leave its flags as they were).
  pinTokenUnavailable: () => nss.unavailable(),
  pinToken: () => nss.token(),
};

/** Why an opencryptoki token cannot be used: no module, no pkcsslotd, or not set up by its script. */
function opencryptokiReason(label: string, script: string): string | undefined {
  if (!existsSync(OPENCRYPTOKI_MODULE)) return `opencryptoki is not installed (apt-get install -y opencryptoki; no ${OPENCRYPTOKI_MODULE})`;
  if (spawnSync('pgrep', ['-x', 'pkcsslotd'], { stdio: 'ignore' }).status !== 0) return `pkcsslotd is not running (${script} starts it and sets up the token)`;
  const info = spawnSync('pkcsconf', ['-t'], { encoding: 'utf8' });
  if (info.status !== 0 || !new RegExp(`Label: ${label}\\s`).test(info.stdout)) {
    return `no opencryptoki token labelled ${label} (${script} sets it up)`;
  }
  return undefined;
}

const opencryptoki: DeviceEntry = {
  id: 'opencryptoki',
  name: 'opencryptoki',
  unwrapTemplate: 'not-accepted',
  required: OPENCRYPTOKI_REQUIRED,
  unavailable: memo(() => decide('opencryptoki', OPENCRYPTOKI_REQUIRED, opencryptokiReason(OPENCRYPTOKI_TOKEN.label, '.ci/opencryptoki-token.sh'))),
  token() {
    const reason = opencryptoki.unavailable();
    if (reason) throw new Error(reason);
    return { device: 'opencryptoki', module: OPENCRYPTOKI_MODULE, ...OPENCRYPTOKI_TOKEN, unwrapTemplate: opencryptoki.unwrapTemplate };
  },
  pinTokenUnavailable: memo(() => decide('opencryptoki (PIN token)', OPENCRYPTOKI_REQUIRED, opencryptokiReason(OPENCRYPTOKI_PIN_TOKEN.label, '.ci/opencryptoki-pin-token.sh'))),
  pinToken() {
    const reason = opencryptoki.pinTokenUnavailable();
    if (reason) throw new Error(reason);
    return { device: 'opencryptoki', module: OPENCRYPTOKI_MODULE, ...OPENCRYPTOKI_PIN_TOKEN, unwrapTemplate: opencryptoki.unwrapTemplate };
  },
};

/** Every PKCS#11 device, SoftHSM2 first. */
export const DEVICES: readonly DeviceEntry[] = [softhsm2, nss, opencryptoki];

export function device(id: DeviceId): DeviceEntry {
  return DEVICES.find((d) => d.id === id)!;
}

/** The backend options of a token (sessions and the rest as the caller adds); best-effort where the device does not enforce the unwrap template. */
export function deviceOptions(token: DeviceToken, extra: Partial<Pkcs11BackendOptions> = {}): Pkcs11BackendOptions {
  return {
    modulePath: token.module, tokenLabel: token.label, pin: token.pin,
    ...(token.libraryParameters !== undefined ? { libraryParameters: token.libraryParameters } : {}),
    // opencryptoki's token is system-wide: test processes on clocks of their own (days ahead, or
    // fixed in the past) would sweep each other's live wrapping keys; a namespace per process
    // keeps each sweeper to its own (test/pkcs11/namespaces.test.ts).
    ...(token.device === 'opencryptoki' ? { namespace: `test-${process.pid}` } : {}),
    ...(token.unwrapTemplate !== 'enforced' ? { unwrapTemplatePolicy: 'best-effort' as const } : {}),
    ...extra,
  };
}

/** The `byok serve|kat` flags and environment that open this token (the PIN goes in the environment). */
export function deviceCli(token: DeviceToken, command: 'serve' | 'kat'): { args: string[]; env: Record<string, string> } {
  return {
    args: ['--backend', 'pkcs11', '--pkcs11-module', token.module, '--pkcs11-token-label', token.label,
      ...(token.libraryParameters !== undefined ? ['--pkcs11-init-params', token.libraryParameters] : []),
      ...(command === 'serve' && token.unwrapTemplate !== 'enforced' ? ['--pkcs11-unwrap-template', 'best-effort'] : [])],
    env: { BYOK_PKCS11_PIN: token.pin },
  };
}
