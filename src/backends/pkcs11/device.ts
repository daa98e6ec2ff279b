/**
 * A PKCS#11 module through pkcs11js: one C_Initialize per module per process, finding the
 * token, logging in, and a bounded pool of sessions for concurrent operations. Device errors
 * leave here as ByokErrors naming their CKR (ckr.ts).
 */
import { existsSync, realpathSync } from 'node:fs';
import type * as Pkcs11Js from 'pkcs11js';
import { ByokError, isByokError } from '../../errors.js';
import { describeCkr, fromPkcs11Error } from './ckr.js';
import { loadPkcs11Js, type Handle, type Pkcs11Lib } from './pkcs11js.js';

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
  // OS locking: without it the *Async calls were seen spinning (MEASURED.md). Library parameters
  // go in CK_C_INITIALIZE_ARGS.pReserved (NSS softoken's configdir=…, else CKR_ARGUMENTS_BAD).
  try {
    // pkcs11js 2.1.7 copies the string into a buffer one byte short, dropping its last character:
    // a trailing space (which NSS's parameter parser skips) is what it drops.
    p11.C_Initialize({ flags: lib.CKF_OS_LOCKING_OK, ...(libraryParameters !== undefined ? { libraryParameters: `${libraryParameters} ` } : {}) });
  } catch (e) {
    try {
      p11.close();
    } catch { /* unloading anyway */ }
    throw e;
  }
  loadedModules.set(key, { p11, refs: 1, libraryParameters });
  return p11;
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
}

/** The loaded module, the chosen slot, and a pool of logged-in R/W sessions. */
/** Session states of a logged-in user (CK_STATE; pkcs11js exports no CKS_ constants). */
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

export class Pkcs11Device {
  private readonly idle: Handle[] = [];
  private readonly all: Handle[] = [];
  private readonly waiters: Array<(s: Handle) => void> = [];
  private closed = false;

  private constructor(
    readonly lib: Pkcs11Lib,
    readonly p11: Pkcs11Js.PKCS11,
    readonly slot: Handle,
    /** The module's real path (the key of loadedModules). */
    readonly modulePath: string,
    sessions: readonly Handle[],
  ) {
    this.all.push(...sessions);
    this.idle.push(...sessions);
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
      throw fromPkcs11Error(lib, e, `Loading the PKCS#11 module ${selection.modulePath}`);
    }
    const sessions: Handle[] = [];
    try {
      const slot = findSlot(p11, selection);
      for (let i = 0; i < Math.max(1, selection.sessions); i++) sessions.push(p11.C_OpenSession(slot, lib.CKF_RW_SESSION | lib.CKF_SERIAL_SESSION));
      try {
        p11.C_Login(sessions[0], lib.CKU_USER, selection.pin);
      } catch (e) {
        if ((e as { code?: number }).code !== lib.CKR_USER_ALREADY_LOGGED_IN) throw e;
      }
      return new Pkcs11Device(lib, p11, slot, key, sessions);
    } catch (e) {
      for (const s of sessions) p11.C_CloseSession(s);
      releaseModule(key);
      if (isByokError(e)) throw e;
      const code = (e as { code?: unknown }).code;
      throw new ByokError('BACKEND_UNAVAILABLE', `PKCS#11 token could not be opened (${typeof code === 'number' ? describeCkr(lib, code) : 'error'}).`, { cause: e });
    }
  }

  /** Run `fn` on a session of its own (sessions run one operation at a time). */
  async withSession<T>(fn: (session: Handle) => Promise<T> | T, what = 'A PKCS#11 operation'): Promise<T> {
    if (this.closed) throw new ByokError('BACKEND_UNAVAILABLE');
    let session = this.idle.pop() ?? (await new Promise<Handle>((resolve) => this.waiters.push(resolve)));
    try {
      return await fn(session);
    } catch (e) {
      // A failed multi-part operation may leave the session busy (SoftHSM2 keeps a failed
      // C_Decrypt active): replace the session rather than hand it on in an unknown state.
      try {
        session = this.recycle(session);
      } catch (r) {
        throw fromPkcs11Error(this.lib, r, 'Replacing a PKCS#11 session after a failure');
      }
      throw fromPkcs11Error(this.lib, e, what);
    } finally {
      const next = this.waiters.shift();
      if (next) next(session);
      else this.idle.push(session);
    }
  }

  /**
   * Readiness: C_GetSessionInfo on a pooled session must succeed and show a logged-in user
   * session (PKCS#11 2.40 §5.5: CKS_RO_USER_FUNCTIONS 1, CKS_RW_USER_FUNCTIONS 3). A session
   * closed under us (C_CloseAllSessions, a device reset) or a lost login is BACKEND_UNAVAILABLE.
   */
  async checkSession(): Promise<void> {
    const state = await this.withSession((session) => this.p11.C_GetSessionInfo(session).state, 'Checking a PKCS#11 session');
    if (state !== CKS_RO_USER_FUNCTIONS && state !== CKS_RW_USER_FUNCTIONS) {
      throw new ByokError('BACKEND_UNAVAILABLE', `The PKCS#11 session is not logged in (session state ${state}).`);
    }
  }

  /** A throw-away session for a start-up probe (its objects go when it closes). */
  withProbeSession<T>(fn: (session: Handle) => T): T {
    const session = this.p11.C_OpenSession(this.slot, this.lib.CKF_SERIAL_SESSION);
    try {
      return fn(session);
    } finally {
      this.p11.C_CloseSession(session);
    }
  }

  private recycle(session: Handle): Handle {
    const fresh = this.p11.C_OpenSession(this.slot, this.lib.CKF_RW_SESSION | this.lib.CKF_SERIAL_SESSION);
    this.all[this.all.indexOf(session)] = fresh;
    try {
      this.p11.C_CloseSession(session);
    } catch { /* already unusable */ }
    return fresh;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  mechanisms(): Set<number> {
    return new Set(this.p11.C_GetMechanismList(this.slot));
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
    for (const s of this.all) {
      try {
        this.p11.C_CloseSession(s);
      } catch { /* closing anyway */ }
    }
    releaseModule(this.modulePath);
  }
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
