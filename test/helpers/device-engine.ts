/**
 * The backend, an import engine over it and a second pkcs11js handle on one device token: what
 * the PKCS#11 hardening and PIN-state tests set up before their tests.
 */
import { randomBytes } from 'node:crypto';
import type { Pkcs11Backend } from '../../src/backends/pkcs11/index.js';
import type { ManualClock } from '../../src/clock.js';
import { ImportEngine } from '../../src/engine/import-engine.js';
import { MemoryKeyStore } from '../../src/store/memory-store.js';
import { deviceOptions, type DeviceToken } from './devices.js';
import { secondHandle, type SecondHandle } from './second-handle.js';

export interface DeviceEngine {
  readonly backend: Pkcs11Backend;
  readonly engine: ImportEngine;
  readonly second: SecondHandle;
  close(): Promise<void>;
}

/** Two sessions, no sweep timer, an in-memory store; the engine's keys are random per call. */
export async function deviceEngine(token: DeviceToken, clock: ManualClock): Promise<DeviceEngine> {
  const { createPkcs11Backend } = await import('../../src/backends/pkcs11/index.js');
  const backend = await createPkcs11Backend(deviceOptions(token, { sessions: 2, clock, sweepIntervalMs: 0 }));
  const second = await secondHandle(token);
  const engine = new ImportEngine({
    backend, store: new MemoryKeyStore(), clock,
    tokenSealingKeys: [{ id: 'tk', key: new Uint8Array(randomBytes(32)) }], commitmentKey: new Uint8Array(randomBytes(32)),
  });
  return {
    backend, engine, second,
    async close() {
      await engine.close();
      await backend.close();
    },
  };
}
