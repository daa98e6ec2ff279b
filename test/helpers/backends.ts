/**
 * The backends the conformance suites run against. Each entry creates a fresh backend, or says
 * why it cannot run here (a skip that CI turns into a failure where the issue requires it).
 */
import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from '../../src/backends/crypto-backend.js';
import { createPureBackend } from '../../src/backends/pure/pure-backend.js';

export interface BackendEntry {
  readonly name: string;
  create(): Promise<CryptoBackend | { skip: string }>;
}

export const BACKENDS: BackendEntry[] = [
  { name: 'pure', create: async () => createPureBackend({ masterKey: new Uint8Array(randomBytes(32)) }) },
];
