/**
 * The backends the conformance suites run against: the pure one, and the PKCS#11 backend on every
 * device of devices.ts. Each entry creates a fresh backend, or says why it cannot run here; a
 * device CI requires throws there instead of skipping.
 */
import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from '../../src/backends/crypto-backend.js';
import { createPureBackend } from '../../src/backends/pure/pure-backend.js';
import { DEVICES, deviceOptions } from './devices.js';

export interface BackendEntry {
  readonly name: string;
  /** Why this backend cannot run here (decided when tests are collected), for `describe.skipIf`. */
  readonly unavailable?: string;
  create(): Promise<CryptoBackend | { skip: string }>;
}

export const BACKENDS: BackendEntry[] = [
  { name: 'pure', create: async () => createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) }) },
  ...DEVICES.map((device): BackendEntry => ({
    name: `pkcs11 (${device.name})`,
    ...(device.unavailable() !== undefined ? { unavailable: device.unavailable() } : {}),
    create: async () => {
      const { createPkcs11Backend } = await import('../../src/backends/pkcs11/index.js');
      // The suite re-uses a token after its import succeeded (the same material back within the
      // token's lifetime), which a device allows only when it keeps the wrapping key.
      return createPkcs11Backend(deviceOptions(device.token('conformance'), { sessions: 2, keepWrappingKeysAfterImport: true }));
    },
  })),
];
