/**
 * The backends the conformance suites run against: the pure one, and the PKCS#11 backend on every
 * device of devices.ts. Each entry creates a fresh backend, or says why it cannot run here; a
 * device CI requires throws there instead of skipping.
 */
import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from '../../src/backends/crypto-backend.js';
import { createPureBackend } from '../../src/backends/pure/pure-backend.js';
import { DEVICES, deviceOptions, type DeviceEntry } from './devices.js';

export interface BackendEntry {
  readonly name: string;
  /** Why this backend cannot run here (decided when tests are collected), for `describe.skipIf`. */
  readonly unavailable?: string;
  create(): Promise<CryptoBackend | { skip: string }>;
}

/**
 * Why a device cannot run the conformance suites: not here, or — opencryptoki's software token —
 * no AES-GCM and no AES key wrap with padding, while the suites import and use AES_256 material
 * and envelopes throughout. What it lacks is declared by the device matrix, the KAT runner and
 * the PIN-holder test (test/devices/), not failed here.
 */
function conformanceUnavailable(device: DeviceEntry): string | undefined {
  const reason = device.unavailable();
  if (reason !== undefined) return reason;
  return device.id === 'opencryptoki' ? 'opencryptoki\'s software token has no AES-GCM and no AES key wrap with padding, which the suites use throughout (its matrix column says so)' : undefined;
}

export const BACKENDS: BackendEntry[] = [
  { name: 'pure', create: async () => createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) }) },
  ...DEVICES.map((device): BackendEntry => ({
    name: `pkcs11 (${device.name})`,
    ...(conformanceUnavailable(device) !== undefined ? { unavailable: conformanceUnavailable(device) } : {}),
    create: async () => {
      const { createPkcs11Backend } = await import('../../src/backends/pkcs11/index.js');
      // The suite re-uses a token after its import succeeded (the same material back within the
      // token's lifetime), which a device allows only when it keeps the wrapping key.
      return createPkcs11Backend(deviceOptions(device.token('conformance'), { sessions: 2, keepWrappingKeysAfterImport: true }));
    },
  })),
];
