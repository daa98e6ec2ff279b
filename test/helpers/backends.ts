/**
 * The backends the conformance suites run against: the pure one, and the PKCS#11 backend on every
 * device of devices.ts. Each entry creates a fresh backend, or says why it cannot run here; a
 * device CI requires throws there instead of skipping.
 *
 * The suites open their backends when the tests are collected (openBackends), so that a test
 * needing what a backend declares it lacks (opencryptoki: AES-GCM, AES key wrap with padding) is
 * `it.skipIf(lack)` with the lack in its title, decided by the backend's own unsupportedReason,
 * and each suite asserts that the declared lacks are exactly what the engine refuses.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { CapabilityQuery, CryptoBackend } from '../../src/backends/crypto-backend.js';
import { createPureBackend } from '../../src/backends/pure/pure-backend.js';
import type { ImportEngine } from '../../src/engine/import-engine.js';
import type { KeyStore } from '../../src/store/key-store.js';
import { ByokError } from '../../src/errors.js';
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

export interface OpenedBackend {
  readonly entry: BackendEntry;
  /** Undefined where the entry is unavailable here (its suite is skipped). */
  readonly backend: CryptoBackend | undefined;
}

/** Every backend of BACKENDS, opened when the tests are collected (a top-level await of a suite). */
export async function openBackends(): Promise<OpenedBackend[]> {
  const opened: OpenedBackend[] = [];
  for (const entry of BACKENDS) {
    if (entry.unavailable !== undefined) {
      opened.push({ entry, backend: undefined });
      continue;
    }
    const created = await entry.create();
    if ('skip' in created) throw new Error(created.skip);
    opened.push({ entry, backend: created });
  }
  return opened;
}

/** What the backend declares it lacks for this query, or undefined (also for a skipped suite's missing backend). */
export function declaredLack(backend: CryptoBackend | undefined, query: CapabilityQuery): string | undefined {
  return backend?.unsupportedReason(query);
}

/** A test title that names the declared lack it is skipped for. */
export function needing(title: string, lack: string | undefined): string {
  return lack === undefined ? title : `${title} — skipped, the backend declares: ${lack}`;
}

/**
 * The declared lacks are exactly what the engine refuses: each query the suite skips on (or
 * parametrises around) is ALGORITHM_UNSUPPORTED with the declared reason as the message where the
 * backend declares it, and accepted where it does not. A query with `wrapping` asks
 * GetParametersForImport of a key whose material spec the backend holds.
 */
export async function expectDeclaredLacksRefused(engine: ImportEngine, tenant: string, backend: CryptoBackend, queries: readonly CapabilityQuery[]): Promise<void> {
  for (const query of queries) {
    const lack = backend.unsupportedReason(query);
    const what = `${query.materialSpec}${query.wrapping ? ` ← ${query.wrapping.algorithm} / ${query.wrapping.keySpec}` : ''}`;
    const attempt = async () => {
      if (!query.wrapping) return engine.createKey({ tenant, materialSpec: query.materialSpec });
      const key = await engine.createKey({ tenant, materialSpec: query.materialSpec });
      return engine.getParametersForImport({ tenant, keyId: key.keyId, wrappingAlgorithm: query.wrapping.algorithm, wrappingKeySpec: query.wrapping.keySpec });
    };
    const outcome = await attempt().then(() => undefined, (e: unknown) => e);
    if (lack === undefined) {
      expect(outcome, `${what}: not declared unsupported, so accepted`).toBeUndefined();
    } else {
      expect(outcome, `${what}: declared unsupported, so refused`).toBeInstanceOf(ByokError);
      expect({ code: (outcome as ByokError).code, message: (outcome as ByokError).message }, what).toEqual({ code: 'ALGORITHM_UNSUPPORTED', message: lack });
    }
  }
}

/**
 * Destroy the device objects of every key the suite stored (its persisted material): the store is
 * the suite's own and goes with it, but opencryptoki's token is system-wide and keeps them.
 */
export async function destroyStoredMaterial(backend: CryptoBackend | undefined, store: KeyStore | undefined, tenants: readonly string[]): Promise<void> {
  if (!backend || !store) return;
  for (const tenant of tenants) {
    for (const key of await store.listKeys(tenant)) {
      if (key.storedMaterial) await backend.destroyPersistedMaterial(key.storedMaterial, key.keyId);
    }
  }
}
