/**
 * A PKCS#11 module through pkcs11js: one C_Initialize per module per process, finding the
 * token, logging in, and a bounded pool of sessions for concurrent operations. Device errors
 * leave here as ByokErrors naming their CKR (ckr.ts).
 */
import { existsSync, realpathSync } from 'node:fs';
import type * as Pkcs11Js from 'pkcs11js';
import { ByokError, isByokError } from '../../errors.js';
import { ckrOf, describeCkr, DeviceFault, fromPkcs11Error, isDeviceFault } from './ckr.js';
import { loadPkcs11Js, type Handle, type Pkcs11Lib } from './pkcs11js.js';
import { SessionPool, type PooledSession } from './session-pool.js';

/** Where Debian and friends put SoftHSM2's module. */
const SOFTHSM_PATHS = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

/** The SoftHSM2 module in its usual install paths, if there is one. */
export function findPkcs11Module(): string | undefined {
  return SOFTHSM_PATHS.find((p) => existsSync(p));
}

/**
 * One loaded, initialised module per library in this process: Cryptoki allows one C_Initialize
 * per module (PKCS#11 2.40 §5.4), so several backends (e.g. two engines) share it, and the last
 * one out finalises. Keyed by the real path: a symlink to the same library is the same module
 * (else its second C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED).
 */
const loadedModules = new Map<string, { p11: Pkcs11Js.PKCS11; refs: number; libraryParameters: string | undefined }>();

/** The key of a module path: its real path (symlinks resolved). */
export function moduleKey(path: string): string {
  return realpathSync(path);
}

function acquireModule(lib: Pkcs11Lib, key: string, libraryParameters: string | undefined): Pkcs11Js.PKCS11 {
  const loaded = loadedModules.get(key);
  if (loaded) {
    // The first C_Initialize's parameters hold for the whole process (NSS: one database).
    if (loaded.libraryParameters !== libraryParameters) {
      throw new ByokError('BACKEND_UNAVAILABLE', `The PKCS#11 module ${key} is already initialised in this process with other library parameters.`);
    }
    loaded.refs++;
    return loaded.p11;
  }
  const p11 = new lib.PKCS11();
  p11.load(key);
  try {
    initializeModule(lib, p11, libraryParameters);
  } catch (e) {
    try {
      p11.close();
    } catch { /* unloading anyway */ }
    throw e;
  }
  loadedModules.set(key, { p11, refs: 1, libraryParameters });
  return p11;
}

/** C_Initialize (also after a fault finalised the module: recovery calls it again). */
function initializeModule(lib: Pkcs11Lib, p11: Pkcs11Js.PKCS11, libraryParameters: string | undefined): void {
  // OS locking: without it the *Async calls were seen spinning (MEASURED.md). Library parameters
  // go in CK_C_INITIALIZE_ARGS.pReserved (NSS softoken's configdir=…, else CKR_ARGUMENTS_BAD).
  // pkcs11js 2.1.7 copies the string into a buffer one byte short, dropping its last character:
  // a trailing space (which NSS's parameter parser skips) is what it drops.
  p11.C_Initialize({ flags: lib.CKF_OS_LOCKING_OK, ...(libraryParameters !== undefined ? { libraryParameters: `${libraryParameters} ` } : {}) });
}

function releaseModule(key: string): void {
  const loaded = loadedModules.get(key);
  if (!loaded || --loaded.refs > 0) return;
  loadedModules.delete(key);
  loaded.p11.C_Finalize();
}

export interface TokenSelection {
  readonly modulePath: string;
  /** C_Initialize library parameters (CK_C_INITIALIZE_ARGS.pReserved), e.g. NSS softoken's `configdir='…'`. */
  readonly libraryParameters?: string;
  readonly tokenLabel?: string;
  readonly slotIndex?: number;
  readonly pin: string;
  readonly sessions: number;
  /** How long an operation waits for a free session, ms (default 30 s). */
  readonly sessionWaitMs?: number;
}

/** Session states of a logged-in user (CK_STATE; pkcs11js exports no CKS_ constants). */
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

/** How long an operation waits for a free session by default, ms (an RSA-4096 generation can hold one for seconds). */
const DEFAULT_SESSION_WAIT_MS = 30_000;

/** The loaded module, the chosen slot, and a pool of logged-in R/W sessions that recovers from device faults. */
export class Pkcs11Device {
  private readonly pool: SessionPool;
  private closed = false;
  private recovering: Promise<void> | undefined;
  /** The PIN has logged in here once: it is known good (see login). */
  private pinProven = false;
  private readonly recoveryListeners: Array<() => void> = [];
  /** Recoveries run (tests and the report). */
  recoveries = 0;

  private constructor(
    readonly lib: Pkcs11Lib,
    readonly p11: Pkcs11Js.PKCS11,
    private slotHandle: Handle,
    /** The module's real path (the key of loadedModules). */
    readonly modulePath: string,
    private readonly selection: TokenSelection,
    sessions: readonly Handle[],
  ) {
    this.pool = new SessionPool({
      open: () => this.p11.C_OpenSession(this.slotHandle, this.lib.CKF_RW_SESSION | this.lib.CKF_SERIAL_SESSION),
      close: (h) => this.p11.C_CloseSession(h),
    }, Math.max(1, selection.sessions), selection.sessionWaitMs ?? DEFAULT_SESSION_WAIT_MS, sessions);
  }

  get slot(): Handle {
    return this.slotHandle;
  }

  /** Load pkcs11js and the module, find the token, open the sessions and log in. */
  static async open(selection: TokenSelection): Promise<Pkcs11Device> {
    const lib = await loadPkcs11Js();
    if (!existsSync(selection.modulePath)) throw new ByokError('BACKEND_UNAVAILABLE', `PKCS#11 module not found: ${selection.modulePath}`);
    const key = moduleKey(selection.modulePath);
    let p11: Pkcs11Js.PKCS11;
    try {
      p11 = acquireModule(lib, key, selection.libraryParameters);
    } catch (e) {
      if (isByokError(e)) throw e;
      // A start-up failure: the backend is unavailable (DEVICE_* codes are for a running one).
      const code = ckrOf(lib, e);
      throw new ByokError('BACKEND_UNAVAILABLE', `Loading the PKCS#11 module ${selection.modulePath} failed (${code !== undefined ? describeCkr(lib, code) : 'error'}).`, { cause: e });
    }
    const sessions: Handle[] = [];
    try {
      const slot = findSlot(p11, selection);
      for (let i = 0; i < Math.max(1, selection.sessions); i++) sessions.push(p11.C_OpenSession(slot, lib.CKF_RW_SESSION | lib.CKF_SERIAL_SESSION));
      const device = new Pkcs11Device(lib, p11, slot, key, selection, sessions);
      device.login(sessions[0]);
      return device;
    } catch (e) {
      for (const s of sessions) {
        try {
          p11.C_CloseSession(s);
        } catch { /* closing anyway */ }
      }
      releaseModule(key);
      if (isByokError(e)) throw e;
      const code = ckrOf(lib, e);
      throw new ByokError('BACKEND_UNAVAILABLE', `PKCS#11 token could not be opened (${code !== undefined ? describeCkr(lib, code) : 'error'}).`, { cause: e });
    }
  }

  /**
   * C_Login as the user, after reading the PIN-retry flags (PKCS#11 2.40 §5.4, CK_TOKEN_INFO): a
   * locked PIN is not tried; nor is a PIN whose wrong try would be the last one (FINAL_TRY); nor,
   * until it has worked here once, a PIN the token already counts failures for (COUNT_LOW) — so
   * a restart loop with a wrong PIN spends one attempt, not all of them. A PIN that has logged
   * in here is known good, so a re-login after a lost login runs with COUNT_LOW set.
   */
  private login(session: Handle): void {
    const l = this.lib;
    const flags = this.p11.C_GetTokenInfo(this.slotHandle).flags;
    const refuse = (flag: string, why: string, what: string) => new ByokError('BACKEND_UNAVAILABLE', `PKCS#11 login not tried: the token reports ${flag} (${why}); ${what}`);
    const resetCount = 'check BYOK_PKCS11_PIN, then reset the count by logging in once with the token\'s own tool (or have the SO reset the PIN).';
    // A locked PIN takes no login at all, not even the right one: only the SO can set it again.
    if (flags & l.CKF_USER_PIN_LOCKED) throw refuse('CKF_USER_PIN_LOCKED', 'the user PIN is locked', 'have the SO set the user PIN again (C_InitPIN), then check BYOK_PKCS11_PIN.');
    const refuseCounted = (flag: string, why: string) => refuse(flag, why, resetCount);
    if (flags & l.CKF_USER_PIN_FINAL_TRY) throw refuseCounted('CKF_USER_PIN_FINAL_TRY', 'one more wrong PIN locks it');
    if (!this.pinProven && flags & l.CKF_USER_PIN_COUNT_LOW) throw refuseCounted('CKF_USER_PIN_COUNT_LOW', 'a wrong PIN was tried since the last good login');
    try {
      this.p11.C_Login(session, l.CKU_USER, this.selection.pin);
    } catch (e) {
      const code = ckrOf(l, e);
      if (code === l.CKR_USER_ALREADY_LOGGED_IN) return;
      // The PIN changed under us: it is no longer known good, so COUNT_LOW stops the next try.
      if (code === l.CKR_PIN_INCORRECT) this.pinProven = false;
      throw e;
    }
    this.pinProven = true;
  }

  /** Called after every recovery (e.g. to drop cached object handles). */
  onRecovery(listener: () => void): void {
    this.recoveryListeners.push(listener);
  }

  /**
   * Run `fn` on a session of its own (sessions run one operation at a time). A device fault
   * (ckr.ts FAULT_NAMES) makes the device usable again (recover) and runs `fn` once more; a
   * second fault, or a failed recovery, is DEVICE_UNAVAILABLE. Other PKCS#11 errors become
   * DEVICE_REFUSED naming the CKR. Objects `fn` keeps beyond the call must be `own`ed.
   */
  async withSession<T>(fn: (session: Handle) => Promise<T> | T, what = 'A PKCS#11 operation'): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new ByokError('BACKEND_UNAVAILABLE', 'The PKCS#11 backend is closed.');
      const s = await this.pool.acquire();
      let failed = false;
      try {
        return await fn(s.handle);
      } catch (e) {
        failed = true;
        if (!isDeviceFault(this.lib, ckrOf(this.lib, e))) throw fromPkcs11Error(this.lib, e, what);
        if (!this.sessionUsable(s.handle)) this.pool.drop(s);
        if (attempt > 0 || this.closed) throw fromPkcs11Error(this.lib, e, what);
        try {
          await this.recover();
        } catch (r) {
          // Recovery failed (the device is gone, the login refused): the device is unavailable.
          const failure = fromPkcs11Error(this.lib, r, `${what}: recovering the PKCS#11 device`);
          throw isByokError(failure) && failure.code !== 'DEVICE_UNAVAILABLE' ? new ByokError('DEVICE_UNAVAILABLE', failure.message, { cause: r }) : failure;
        }
      } finally {
        this.pool.release(s, failed);
      }
    }
  }

  /** An object made on `session` is kept beyond the operation: the session is not closed before it goes. */
  own(session: Handle): PooledSession | undefined {
    return this.pool.own(session);
  }

  /** A kept object is gone (destroyed). */
  disown(owner: PooledSession | undefined): void {
    this.pool.disown(owner);
  }

  /** Sessions open on the device (pooled and retired). */
  get openSessions(): number {
    return this.pool.openSessions;
  }

  /**
   * Whether a CKR that looks like a device fault really is one here: the session is gone or not
   * logged in. An unwrap path asks this before letting a CKR through instead of its uniform
   * error, so a device that answered DEVICE_ERROR for one ciphertext and not another cannot
   * become an oracle.
   */
  confirmsFault(e: unknown, session: Handle): boolean {
    return isDeviceFault(this.lib, ckrOf(this.lib, e)) && !this.sessionUsable(session);
  }

  /**
   * A search found nothing: was it because the login is gone (private objects are then
   * invisible)? Then it is a fault to recover from, not a missing object.
   */
  assertLoggedIn(session: Handle): void {
    if (!this.sessionUsable(session)) throw new DeviceFault(this.lib.CKR_USER_NOT_LOGGED_IN, 'The PKCS#11 session is not logged in.');
  }

  private sessionUsable(session: Handle): boolean {
    try {
      const state = this.p11.C_GetSessionInfo(session).state;
      return state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;
    } catch {
      return false;
    }
  }

  /**
   * Make the device usable again after a fault, once for all concurrent callers: re-initialise
   * the module if it was finalised, find the slot by its token label again (slot IDs change when
   * a token is re-plugged), drop the sessions the device forgot and reopen them, log in again.
   */
  recover(): Promise<void> {
    this.recovering ??= Promise.resolve().then(() => this.recoverNow()).finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  private recoverNow(): void {
    const { lib: l, p11 } = this;
    this.recoveries++;
    // Initialise again if the module was finalised (NSS then lists no slots rather than
    // answering CKR_CRYPTOKI_NOT_INITIALIZED): an initialised one says ALREADY_INITIALIZED.
    try {
      initializeModule(l, p11, this.selection.libraryParameters);
    } catch (e) {
      if (ckrOf(l, e) !== l.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
    }
    const slot = findSlot(p11, this.selection);
    if (!slot.equals(this.slotHandle)) {
      this.slotHandle = slot;
      this.pool.dropInvalid(() => false);
    }
    this.pool.dropInvalid((session) => {
      try {
        p11.C_GetSessionInfo(session);
        return true;
      } catch {
        return false;
      }
    });
    for (const listener of this.recoveryListeners) listener();
    // Login is per application and token: one C_Login serves every session.
    return this.withSessionNoRecovery((session) => {
      if (!this.sessionUsable(session)) this.login(session);
    });
  }

  private withSessionNoRecovery(fn: (session: Handle) => void): void {
    const session = p11Open(this);
    try {
      fn(session);
    } finally {
      try {
        this.p11.C_CloseSession(session);
      } catch { /* closing anyway */ }
    }
  }

  /**
   * Readiness: a pooled session must answer C_GetSessionInfo and show a logged-in user session
   * (PKCS#11 2.40 §5.5: CKS_RO_USER_FUNCTIONS 1, CKS_RW_USER_FUNCTIONS 3). A fault or a lost
   * login is recovered here too (so /readyz mends what it finds); what cannot be mended is
   * DEVICE_UNAVAILABLE with the reason.
   */
  async checkSession(): Promise<void> {
    const loggedIn = (): Promise<boolean> => this.withSession((session) => this.sessionUsable(session), 'Checking a PKCS#11 session');
    if (await loggedIn()) return;
    try {
      await this.recover();
    } catch (e) {
      const failure = fromPkcs11Error(this.lib, e, 'Recovering the PKCS#11 login');
      throw isByokError(failure) && failure.code !== 'DEVICE_UNAVAILABLE' ? new ByokError('DEVICE_UNAVAILABLE', failure.message, { cause: e }) : failure;
    }
    if (!(await loggedIn())) throw new ByokError('DEVICE_UNAVAILABLE', 'The PKCS#11 session is not logged in, and logging in again failed.');
  }

  /** A throw-away R/W session for a start-up probe (its session objects go when it closes; token objects it destroys). */
  withProbeSession<T>(fn: (session: Handle) => T): T {
    const session = this.p11.C_OpenSession(this.slotHandle, this.lib.CKF_RW_SESSION | this.lib.CKF_SERIAL_SESSION);
    try {
      return fn(session);
    } finally {
      this.p11.C_CloseSession(session);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  mechanisms(): Set<number> {
    return new Set(this.p11.C_GetMechanismList(this.slotHandle));
  }

  /** C_GetMechanismInfo, or undefined where the device does not list the mechanism. */
  mechanismInfo(mechanism: number): Pkcs11Js.MechanismInfo | undefined {
    try {
      return this.p11.C_GetMechanismInfo(this.slotHandle, mechanism);
    } catch {
      return undefined;
    }
  }

  /** C_FindObjects for at most `max` objects matching `template`. */
  findObjects(session: Handle, template: Pkcs11Js.Template, max = 16): Handle[] {
    this.p11.C_FindObjectsInit(session, template);
    try {
      return this.p11.C_FindObjects(session, max);
    } finally {
      this.p11.C_FindObjectsFinal(session);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Closing the sessions logs this application out once the last one is gone.
    this.pool.closeAll();
    releaseModule(this.modulePath);
  }
}

/** A fresh R/W session on the device's slot (recovery's own, outside the pool). */
function p11Open(device: Pkcs11Device): Handle {
  return device.p11.C_OpenSession(device.slot, device.lib.CKF_RW_SESSION | device.lib.CKF_SERIAL_SESSION);
}

function findSlot(p11: Pkcs11Js.PKCS11, selection: TokenSelection): Handle {
  const slots = p11.C_GetSlotList(true);
  if (selection.tokenLabel !== undefined) {
    for (const slot of slots) {
      if (p11.C_GetTokenInfo(slot).label.trim() === selection.tokenLabel) return slot;
    }
    throw new ByokError('BACKEND_UNAVAILABLE', `No PKCS#11 token labelled '${selection.tokenLabel}'.`);
  }
  const slot = slots[selection.slotIndex ?? 0];
  if (!slot) throw new ByokError('BACKEND_UNAVAILABLE', 'No PKCS#11 token present.');
  return slot;
}
