/**
 * The backends the conformance suites run against. Each entry creates a fresh backend, or says
 * why it cannot run here; PKCS#11 is required in CI (the entry throws there instead of skipping).
 */
import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from '../../src/backends/crypto-backend.js';
import { createPureBackend } from '../../src/backends/pure/pure-backend.js';
import { createSoftHsmToken, softHsmUnavailable } from './softhsm.js';

export interface BackendEntry {
  readonly name: string;
  /** Why this backend cannot run here (decided when tests are collected), for `describe.skipIf`. */
  readonly unavailable?: string;
  create(): Promise<CryptoBackend | { skip: string }>;
}

export const BACKENDS: BackendEntry[] = [
  { name: 'pure', create: async () => createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) }) },
  {
    name: 'pkcs11 (SoftHSM2)',
    unavailable: softHsmUnavailable(),
    create: async () => {
      const token = createSoftHsmToken('conformance');
      if ('skip' in token) return token;
      const { createPkcs11Backend } = await import('../../src/backends/pkcs11/index.js');
      // The suite re-uses a token after its import succeeded (the same material back within the
      // token's lifetime), which a device allows only when it keeps the wrapping key.
      return createPkcs11Backend({ modulePath: token.module, tokenLabel: token.label, pin: token.pin, sessions: 2, keepWrappingKeysAfterImport: true });
    },
  },
];
