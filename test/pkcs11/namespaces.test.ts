/**
 * Wrapping-key namespaces on a shared token (SoftHSM2): two backends whose clocks disagree — as
 * two deployments, or a test's clock run days ahead beside a service on the real clock — each
 * sweep only their own expired wrapping keys, so neither destroys a key the other's live token
 * still needs. A backend without a namespace keeps the labels it always had.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pkcs11Backend } from '../../src/backends/pkcs11/index.js';
import { ManualClock } from '../../src/clock.js';
import { pkcs11Options, readConfig } from '../../src/config/config.js';
import { expectCode } from '../helpers/expect-code.js';
import { DEVICES, deviceOptions, type DeviceToken } from '../helpers/devices.js';
import { secondHandle, type SecondHandle } from '../helpers/second-handle.js';

const softhsm = DEVICES.find((d) => d.id === 'softhsm2')!;
const DAY = 86_400_000;

describe.skipIf(softhsm.unavailable() !== undefined)('wrapping-key namespaces on one SoftHSM2 token', () => {
  let token: DeviceToken;
  let second: SecondHandle;
  const opened: Pkcs11Backend[] = [];
  async function open(clock: ManualClock, namespace?: string) {
    const { createPkcs11Backend } = await import('../../src/backends/pkcs11/index.js');
    const backend = await createPkcs11Backend(deviceOptions(token, { sessions: 1, clock, sweepIntervalMs: 0, ...(namespace !== undefined ? { namespace } : {}) }));
    opened.push(backend);
    return backend;
  }
  const labels = () => second.objects('byok-wrapping-key/', []).map((o) => o.label).sort();

  beforeAll(async () => {
    token = softhsm.token('namespaces');
  });
  afterAll(async () => {
    for (const b of opened) await b.close();
  });

  it('a sweeper destroys only its own namespace\'s expired keys, whatever its clock says of the others\'', async () => {
    const now = Date.UTC(2026, 11, 1);
    const real = new ManualClock(now);
    const ahead = new ManualClock(now);
    const plain = await open(real);
    // The backend initialised the module; the second handle shares it (it must not be first).
    second = await secondHandle(token);
    const a = await open(ahead, 'deploy-a');
    const b = await open(real, 'deploy-b');
    await plain.generateWrappingKeyPair('RSA_2048');
    await a.generateWrappingKeyPair('RSA_2048');
    await b.generateWrappingKeyPair('RSA_2048');
    const lifetime = Math.floor(now / 1000) + 26 * 3600;
    expect(labels()).toEqual([`byok-wrapping-key/${lifetime}`, `byok-wrapping-key/deploy-a/${lifetime}`, `byok-wrapping-key/deploy-b/${lifetime}`]);

    // deploy-a's clock runs 10 days ahead: its sweep takes its own key only.
    ahead.advance(10 * DAY);
    expect(await a.sweepExpiredWrappingKeys(true)).toBe(1);
    expect(labels()).toEqual([`byok-wrapping-key/${lifetime}`, `byok-wrapping-key/deploy-b/${lifetime}`]);
    // So does a backend without a namespace: the namespaced key is not its own.
    real.advance(10 * DAY);
    expect(await plain.sweepExpiredWrappingKeys(true)).toBe(1);
    expect(labels()).toEqual([`byok-wrapping-key/deploy-b/${lifetime}`]);
    expect(await b.sweepExpiredWrappingKeys(true)).toBe(1);
    expect(labels()).toEqual([]);
  });

  it('comes from --pkcs11-namespace (BYOK_PKCS11_NAMESPACE, pkcs11.namespace); one a label could confuse is refused before the device opens', async () => {
    const config = readConfig('serve', ['--backend', 'pkcs11', '--pkcs11-namespace', 'deploy-a'], { BYOK_PKCS11_PIN: '1234' });
    expect(pkcs11Options(config).namespace).toBe('deploy-a');
    const fromEnv = readConfig('serve', ['--backend', 'pkcs11'], { BYOK_PKCS11_PIN: '1234', BYOK_PKCS11_NAMESPACE: 'deploy-b' });
    expect(pkcs11Options(fromEnv).namespace).toBe('deploy-b');
    for (const bad of ['', 'a/b', 'x'.repeat(33), 'ns 1']) await expectCode(open(new ManualClock(Date.now()), bad), 'INVALID_PARAMETER', /namespace/);
  });
});
