/**
 * Issue 14 defect 10: /healthz is liveness (the process answers), /readyz is readiness: a real
 * store round trip and the backend's own check, 503 with the reason when either is not usable —
 * a stopped PostgreSQL, a SQLite store disabled by a failed WAL flush, a PKCS#11 session closed
 * under the service (C_CloseAllSessions). Recovery is issue 15.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Pkcs11Backend } from '../src/backends/pkcs11/pkcs11-backend.js';
import { generateEngineKeys } from '../src/config/key-files.js';
import type { ImportEngine } from '../src/engine/import-engine.js';
import { openEngine } from '../src/open-engine.js';
import { buildServer } from '../src/server/app.js';
import { AuthTokens } from '../src/server/auth.js';
import type { KeyStore } from '../src/store/key-store.js';
import { PostgresKeyStore } from '../src/store/postgres-store.js';
import { SqliteKeyStore } from '../src/store/sqlite-store.js';
import { startPgCluster } from './helpers/postgres.js';
import { createSoftHsmToken, type SoftHsmToken } from './helpers/softhsm.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-readyz-'));
const pgCluster = startPgCluster();
const token = createSoftHsmToken('readyz');
const closers: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  if (!('skip' in pgCluster)) pgCluster.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** The standalone app over an engine on `store` (and `backend`, default pure). */
async function serve(store: KeyStore, backend?: Pkcs11Backend) {
  const engine: ImportEngine = await openEngine({ store, keys: generateEngineKeys(), ...(backend ? { backend } : {}) });
  const { app } = buildServer({ engine, auth: new AuthTokens(new Map([['tok', 't']])), logger: pino({ level: 'silent' }) });
  await app.ready();
  closers.push(() => app.close(), () => engine.close(), () => store.close().catch(() => undefined));
  const probe = async (path: '/readyz' | '/healthz') => {
    const r = await app.inject({ method: 'GET', url: path });
    return { status: r.statusCode, body: r.json() };
  };
  return { engine, probe };
}

describe('liveness and readiness', () => {
  it('SQLite: ready, then 503 naming the store once a failed WAL flush disabled it; /healthz stays 200', async () => {
    const store = new SqliteKeyStore(join(dir, 'byok.sqlite'));
    const { engine, probe } = await serve(store);
    expect(await probe('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    const seam = store as unknown as { syncFile: (fd: number, done: (e: Error | null) => void) => void };
    seam.syncFile = (_fd, done) => done(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(engine.createKey({ tenant: 't', alias: 'k', origin: 'EXTERNAL' })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    seam.syncFile = (_fd, done) => done(null);
    const r = await probe('/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ status: 'unready', store: expect.stringMatching(/disabled after a failed write/) });
    expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it.skipIf('skip' in pgCluster)('PostgreSQL: ready, then 503 naming the store while the server is down', async () => {
    const cluster = pgCluster as Exclude<typeof pgCluster, { skip: string }>;
    const store = await PostgresKeyStore.connect(await cluster.createDatabase());
    const { probe } = await serve(store);
    expect(await probe('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    cluster.stop();
    try {
      const r = await probe('/readyz');
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('unready');
      expect(typeof r.body.store).toBe('string');
      expect(r.body.backend).toBeUndefined();
      expect((await probe('/healthz')).status).toBe(200);
    } finally {
      cluster.start();
    }
  }, 30_000);

  it.skipIf('skip' in token)('PKCS#11: ready (with the device\'s capability report); recovers after its sessions are closed under it; 503 naming the backend while the login cannot be mended', async () => {
    const t = token as SoftHsmToken;
    const { createPkcs11Backend } = await import('../src/backends/pkcs11/index.js');
    const backend = await createPkcs11Backend({ modulePath: t.module, tokenLabel: t.label, pin: t.pin, sessions: 2 });
    closers.push(() => backend.close().catch(() => undefined));
    const { probe } = await serve(new SqliteKeyStore(join(dir, 'p11.sqlite')), backend);
    const ready = { status: 200, body: { status: 'ready', capabilities: expect.objectContaining({ backend: 'pkcs11', rows: expect.arrayContaining([{ materialSpec: 'SM4_128', status: 'unsupported', reason: expect.stringMatching(/SM4/) }]) }) } };
    expect(await probe('/readyz')).toEqual(ready);
    // What a device reset or another application's C_CloseAllSessions does: /readyz mends it.
    const { p11, lib } = backend.device;
    p11.C_CloseAllSessions(backend.device.slot);
    expect(await probe('/readyz')).toEqual(ready);
    // Logged out, and the user PIN changed by the SO: the login cannot be mended.
    const so = (fn: (s: Buffer) => void) => {
      const s = p11.C_OpenSession(backend.device.slot, lib.CKF_RW_SESSION | lib.CKF_SERIAL_SESSION);
      try {
        fn(s);
      } finally {
        p11.C_CloseSession(s);
      }
    };
    so((s) => {
      p11.C_Logout(s);
      p11.C_Login(s, lib.CKU_SO, t.soPin);
      p11.C_InitPIN(s, '97531864');
      p11.C_Logout(s);
    });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await probe('/readyz');
        expect(r.status).toBe(503);
        expect(r.body).toMatchObject({ status: 'unready', backend: expect.stringMatching(/PKCS#11/) });
      }
      expect((await probe('/healthz')).status).toBe(200);
    } finally {
      so((s) => {
        p11.C_Login(s, lib.CKU_SO, t.soPin);
        p11.C_InitPIN(s, t.pin);
        p11.C_Logout(s);
        p11.C_Login(s, lib.CKU_USER, t.pin); // resets the failure count; the application is logged in again
      });
    }
    expect(await probe('/readyz')).toEqual(ready);
  });
});
