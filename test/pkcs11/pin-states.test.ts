/**
 * Issue 15 defect 7 on every PKCS#11 device of this machine: the user-PIN flags of CK_TOKEN_INFO
 * (PKCS#11 2.40 §5.4: CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED) are read
 * before every C_Login, so neither a restart loop nor a recovery loop with a wrong PIN spends the
 * token's tries. Wrong logins come from a second pkcs11js handle (another application, or a PIN
 * holder's tool), on each device's PIN token (devices.ts `pinToken`), never the shared one.
 *
 * What the devices report, measured: SoftHSM2 2.6.1 sets COUNT_LOW at the first wrong PIN and
 * never more (no FINAL_TRY, no lock); NSS's softoken 3.87 sets none of the three, however many;
 * opencryptoki 3.8.1's software token counts three (set_login_flags in
 * usr/lib/pkcs11/common/sess_mgr.c: COUNT_LOW, then FINAL_TRY, then LOCKED), a good login clears
 * them, and the SO's C_InitPIN clears LOCKED. Its flags live in pkcsslotd's shared memory, so
 * every process sees them.
 *
 * Its own test file (a process of its own): opencryptoki shares one login state among its tokens
 * in a process (devices.ts), so the shared byok-ock token is never opened here. opencryptoki's
 * object-count test (hardening's, object-counts.ts) runs here too: it needs a token of its own.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pkcs11Backend } from '../../src/backends/pkcs11/index.js';
import { wrapForImport } from '../../src/client/wrap.js';
import { ManualClock } from '../../src/clock.js';
import type { ImportEngine } from '../../src/engine/import-engine.js';
import { DEVICES, deviceOptions, type DeviceId, type DeviceToken } from '../helpers/devices.js';
import { OBJECT_COUNTS_TIMEOUT_MS, OBJECT_COUNTS_TITLE, objectCounts } from '../helpers/object-counts.js';
import { deviceEngine, type DeviceEngine } from '../helpers/device-engine.js';
import { expectCode } from '../helpers/expect-code.js';
import type { SecondHandle } from '../helpers/second-handle.js';

const TENANT = 'tenant-pin';
/** OAEP-SHA1 of HMAC material: in the device on all three (no GCM, no key wrap needed). */
const ALGORITHM = 'RSAES_OAEP_SHA_1';
const WRONG_PIN = '00000000';
const OTHER_PIN = '24681357';

for (const dev of DEVICES) describe.skipIf(dev.pinTokenUnavailable() !== undefined)(`PKCS#11 PIN states on ${dev.name}`, () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 1));
  let token: DeviceToken;
  let backend: Pkcs11Backend;
  let second: SecondHandle;
  let engine: ImportEngine;
  let createPkcs11Backend: typeof import('../../src/backends/pkcs11/index.js').createPkcs11Backend;

  let opened: DeviceEngine | undefined;
  beforeAll(async () => {
    token = dev.pinToken();
    ({ createPkcs11Backend } = await import('../../src/backends/pkcs11/index.js'));
    opened = await deviceEngine(token, clock);
    ({ backend, engine, second } = opened);
  });
  afterAll(() => opened?.close());

  /** The three user-PIN flags the token reports now. */
  const pinFlags = () => second.flags() & (second.l.CKF_USER_PIN_COUNT_LOW | second.l.CKF_USER_PIN_FINAL_TRY | second.l.CKF_USER_PIN_LOCKED);
  /** A good import of fresh HMAC material, ready to run (again: the same token until it succeeds). */
  async function goodImport() {
    const key = await engine.createKey({ tenant: TENANT, keySpec: 'HMAC_256' });
    const p = await engine.getParametersForImport({ tenant: TENANT, keyId: key.keyId, wrappingAlgorithm: ALGORITHM });
    const w = wrapForImport({ publicKey: p.publicKey, algorithm: ALGORITHM, material: new Uint8Array(randomBytes(32)) });
    return () => engine.importKeyMaterial({ tenant: TENANT, keyId: key.keyId, importToken: p.importToken, encryptedKeyMaterial: Buffer.from(w.encryptedKeyMaterial).toString('base64') });
  }
  /** C_Login from the second handle, where the application may already be logged in. */
  const login = (userType: number, pin: string) => second.session((s) => {
    try {
      second.p11.C_Login(s, userType, pin);
    } catch (e) {
      if ((e as { code?: number }).code !== second.l.CKR_USER_ALREADY_LOGGED_IN) throw e;
    }
  });
  /** Another application logs this one out (the login is per application: ours goes too). */
  const logout = () => second.session((s) => {
    try {
      second.p11.C_Logout(s);
    } catch (e) {
      if ((e as { code?: number }).code !== second.l.CKR_USER_NOT_LOGGED_IN) throw e;
    }
  });
  /** A wrong user PIN from the second handle (the application logged out first, else the token answers ALREADY_LOGGED_IN). */
  const wrongLogin = () => second.session((s) => expect(() => second.p11.C_Login(s, second.l.CKU_USER, WRONG_PIN)).toThrow(/CKR_PIN_INCORRECT/));
  /** The SO sets the user PIN (C_InitPIN); the application is logged out after. */
  const soInitPin = (pin: string) => {
    logout();
    second.session((s) => {
      second.p11.C_Login(s, second.l.CKU_SO, token.soPin!);
      try {
        second.p11.C_InitPIN(s, pin);
      } finally {
        second.p11.C_Logout(s);
      }
    });
  };
  /**
   * The user PIN changes from `from` to `to`: by the SO's C_InitPIN where the device has an SO PIN,
   * else by the user's own C_SetPIN (NSS: it needs the user logged in). Logged out after.
   */
  const changePin = (from: string, to: string) => {
    if (token.soPin !== undefined) return soInitPin(to);
    login(second.l.CKU_USER, from);
    second.session((s) => second.p11.C_SetPIN(s, from, to));
    logout();
  };
  /** A fresh backend on the token (a restart): opened and closed, or its refusal. */
  const restart = async () => (await createPkcs11Backend(deviceOptions(token, { sessions: 1, clock, sweepIntervalMs: 0 }))).close();

  // What each device reports after wrong PINs, and what the backend does then: one test a device,
  // first (the backend's own login at start-up is then its last, so its PIN is proven).
  const wrongPins: Record<DeviceId, [string, () => Promise<void>]> = {
    softhsm2: ['five wrong PINs from another application: SoftHSM2 reports CKF_USER_PIN_COUNT_LOW and never FINAL_TRY or LOCKED; a restart tries no PIN, a running backend whose PIN logged in here logs in again', async () => {
      // A backend that logs in itself (where the application is logged in already, the token
      // answers CKR_USER_ALREADY_LOGGED_IN and the backend's PIN is not proven).
      logout();
      const own = await createPkcs11Backend(deviceOptions(token, { sessions: 1, clock, sweepIntervalMs: 0 }));
      try {
        logout();
        for (let i = 0; i < 5; i++) {
          wrongLogin();
          expect(pinFlags()).toBe(second.l.CKF_USER_PIN_COUNT_LOW);
        }
        await expectCode(restart(), 'BACKEND_UNAVAILABLE', /PKCS#11 login not tried: the token reports CKF_USER_PIN_COUNT_LOW/);
        expect(pinFlags()).toBe(second.l.CKF_USER_PIN_COUNT_LOW);
        // The running backend's PIN has worked here: it is tried, and the good login clears the count.
        await own.checkReady();
        expect(pinFlags()).toBe(0);
        expect(await own.generateMaterial('HMAC_256')).toBeTruthy();
      } finally {
        login(second.l.CKU_USER, token.pin);
        await own.close();
      }
      expect((await (await goodImport())()).state).toBe('Enabled');
    }],
    nss: ['five wrong PINs from another application: NSS reports no PIN flag (no count, no lock), so a restart and the running backend both log in', async () => {
      const run = await goodImport();
      logout();
      try {
        for (let i = 0; i < 5; i++) {
          wrongLogin();
          expect(pinFlags()).toBe(0);
        }
        await restart();
        expect((await run()).state).toBe('Enabled');
      } finally {
        login(second.l.CKU_USER, token.pin);
      }
    }],
    opencryptoki: ['two wrong PINs from another application: CKF_USER_PIN_FINAL_TRY, and neither a recovery nor a restart tries the PIN (the flags unchanged); a third: CKF_USER_PIN_LOCKED, refused alike; the SO\'s C_InitPIN unlocks it and the same backend logs in and imports', async () => {
      const l = second.l;
      const run = await goodImport();
      logout();
      let unlocked = false;
      try {
        wrongLogin();
        expect(pinFlags()).toBe(l.CKF_USER_PIN_COUNT_LOW);
        wrongLogin();
        expect(pinFlags()).toBe(l.CKF_USER_PIN_FINAL_TRY);
        // Our PIN is right, and logged this backend in; still not tried: one slip would lock the token.
        await expectCode(run(), 'DEVICE_UNAVAILABLE', /PKCS#11 login not tried: the token reports CKF_USER_PIN_FINAL_TRY/);
        await expectCode(backend.checkReady(), 'DEVICE_UNAVAILABLE', /CKF_USER_PIN_FINAL_TRY/);
        await expectCode(restart(), 'BACKEND_UNAVAILABLE', /PKCS#11 login not tried: the token reports CKF_USER_PIN_FINAL_TRY/);
        expect(pinFlags()).toBe(l.CKF_USER_PIN_FINAL_TRY);

        wrongLogin();
        expect(pinFlags()).toBe(l.CKF_USER_PIN_LOCKED);
        // Locked: the token refuses even the right PIN.
        second.session((s) => expect(() => second.p11.C_Login(s, l.CKU_USER, token.pin)).toThrow(/CKR_PIN_LOCKED/));
        await expectCode(run(), 'DEVICE_UNAVAILABLE', /PKCS#11 login not tried: the token reports CKF_USER_PIN_LOCKED/);
        await expectCode(backend.checkReady(), 'DEVICE_UNAVAILABLE', /CKF_USER_PIN_LOCKED/);
        // What to do says the SO, not a login with the token's tool (a locked PIN takes none).
        await expectCode(restart(), 'BACKEND_UNAVAILABLE', /PKCS#11 login not tried: the token reports CKF_USER_PIN_LOCKED .*have the SO set the user PIN again/);
        expect(pinFlags()).toBe(l.CKF_USER_PIN_LOCKED);

        // The SO sets the same user PIN again: the lock is gone, and no other flag is left.
        soInitPin(token.pin);
        unlocked = true;
        expect(pinFlags()).toBe(0);
      } finally {
        if (!unlocked) {
          soInitPin(token.pin);
          login(l.CKU_USER, token.pin);
        }
      }
      // The same backend logs in by itself (a recovery) and imports; a restart opens too.
      expect((await run()).state).toBe('Enabled');
      await backend.checkReady();
      await restart();
      expect(pinFlags()).toBe(0);
    }],
  };
  it(...wrongPins[dev.id]);

  const counts = dev.id !== 'nss';
  it(`a fault recovery cannot mend is DEVICE_UNAVAILABLE (503) and spends no budget; ${counts
    ? 'the first recovery tries the PIN once (the token then reports CKF_USER_PIN_COUNT_LOW), the later ones not at all'
    : 'NSS keeps no retry count (no flags): each recovery tries the PIN once, and nothing is spent'}`, async () => {
    const run = await goodImport();
    // Another application changes the user PIN and logs us out: our re-login fails.
    changePin(token.pin, OTHER_PIN);
    try {
      const first = await expectCode(run(), 'DEVICE_UNAVAILABLE', /CKR_PIN_INCORRECT/);
      expect(first.fault).toBe('server');
      expect(pinFlags()).toBe(counts ? second.l.CKF_USER_PIN_COUNT_LOW : 0);
      for (let i = 0; i < 11; i++) await expectCode(run(), 'DEVICE_UNAVAILABLE', counts ? /PKCS#11 login not tried: the token reports CKF_USER_PIN_COUNT_LOW/ : /CKR_PIN_INCORRECT/);
      await expectCode(backend.checkReady(), 'DEVICE_UNAVAILABLE');
      // Unchanged: on opencryptoki a second wrong try would have set FINAL_TRY.
      expect(pinFlags()).toBe(counts ? second.l.CKF_USER_PIN_COUNT_LOW : 0);
    } finally {
      // The PIN restored and one good login (which resets the count).
      changePin(OTHER_PIN, token.pin);
      login(second.l.CKU_USER, token.pin);
    }
    expect(pinFlags()).toBe(0);
    // The same token imports: 13 device failures spent none of its budget of 10.
    expect((await run()).state).toBe('Enabled');
    await backend.checkReady();
  });

  // The shared opencryptoki token cannot run the object counts (object-counts.ts says why): they
  // run here, on this token of its own, after the PIN tests (one file: never at the same time).
  if (dev.id === 'opencryptoki') describe('object counts, on a token of their own', () => {
    it(OBJECT_COUNTS_TITLE, () => objectCounts(token, second), OBJECT_COUNTS_TIMEOUT_MS);
  });
});
