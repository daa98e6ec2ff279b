/**
 * Loading a PKCS#11 module through pkcs11js (an optional dependency, loaded only here and only
 * when the PKCS#11 backend is asked for), finding the token, logging in, and a bounded pool of
 * sessions for concurrent operations.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Pkcs11Js from 'pkcs11js';
import { ByokError } from '../src/errors.js';

export type Pkcs11Lib = typeof Pkcs11Js;
export type Handle = Buffer;

/** Where Debian and friends put SoftHSM2's module. */
const SOFTHSM_PATHS = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

export function findPkcs11Module(): string | undefined {
  return SOFTHSM_PATHS.find((p) => existsSync(p));
}

export function loadPkcs11Js(): Pkcs11Lib {
  try {
    return createRequire(import.meta.url)('pkcs11js') as Pkcs11Lib;
  } catch {
    throw new ByokError('BACKEND_UNAVAILABLE', 'The PKCS#11 backend needs the optional package pkcs11js (npm install pkcs11js).');
  }
}

/**
 * One loaded, initialised module per path in this process: Cryptoki allows one C_Initialize per
 * module, so several backends (e.g. two engines) share it, and the last one out finalises.
 */
const loadedModules = new Map<string, { p11: Pkcs11Js.PKCS11; refs: number }>();

function acquireModule(lib: Pkcs11Lib, path: string): Pkcs11Js.PKCS11 {
  const loaded = loadedModules.get(path);
  if (loaded) {
    loaded.refs++;
    return loaded.p11;
  }
  const p11 = new lib.PKCS11();
  p11.load(path);
  // OS locking: without it the *Async calls were seen spinning (MEASURED.md).
  p11.C_Initialize({ flags: lib.CKF_OS_LOCKING_OK });
  loadedModules.set(path, { p11, refs: 1 });
  return p11;
}

function releaseModule(path: string): void {
  const loaded = loadedModules.get(path);
  if (!loaded || --loaded.refs > 0) return;
  loadedModules.delete(path);
  loaded.p11.C_Finalize();
}

export interface TokenSelection {
  readonly modulePath: string;
  readonly tokenLabel?: string;
  readonly slotIndex?: number;
  readonly pin: string;
  readonly sessions: number;
}

/** The loaded module, the chosen slot, and a pool of logged-in R/W sessions. */
export class Pkcs11Device {
  readonly lib: Pkcs11Lib;
  readonly p11: Pkcs11Js.PKCS11;
  readonly slot: Handle;
  private readonly modulePath: string;
  private readonly idle: Handle[] = [];
  private readonly all: Handle[] = [];
  private readonly waiters: Array<(s: Handle) => void> = [];
  private closed = false;

  constructor(selection: TokenSelection) {
    this.lib = loadPkcs11Js();
    if (!existsSync(selection.modulePath)) throw new ByokError('BACKEND_UNAVAILABLE', `PKCS#11 module not found: ${selection.modulePath}`);
    this.modulePath = selection.modulePath;
    this.p11 = acquireModule(this.lib, selection.modulePath);
    try {
      this.slot = this.findSlot(selection);
      for (let i = 0; i < Math.max(1, selection.sessions); i++) {
        const s = this.p11.C_OpenSession(this.slot, this.lib.CKF_RW_SESSION | this.lib.CKF_SERIAL_SESSION);
        this.all.push(s);
        this.idle.push(s);
      }
      try {
        this.p11.C_Login(this.all[0], this.lib.CKU_USER, selection.pin);
      } catch (e) {
        if ((e as { code?: number }).code !== this.lib.CKR_USER_ALREADY_LOGGED_IN) throw e;
      }
    } catch (e) {
      for (const s of this.all) this.p11.C_CloseSession(s);
      releaseModule(this.modulePath);
      if (e instanceof ByokError) throw e;
      throw new ByokError('BACKEND_UNAVAILABLE', `PKCS#11 token could not be opened (${(e as { code?: number }).code ?? 'error'}).`);
    }
  }

  private findSlot(selection: TokenSelection): Handle {
    const slots = this.p11.C_GetSlotList(true);
    if (selection.tokenLabel !== undefined) {
      for (const slot of slots) {
        if (this.p11.C_GetTokenInfo(slot).label.trim() === selection.tokenLabel) return slot;
      }
      throw new ByokError('BACKEND_UNAVAILABLE', `No PKCS#11 token labelled '${selection.tokenLabel}'.`);
    }
    const slot = slots[selection.slotIndex ?? 0];
    if (!slot) throw new ByokError('BACKEND_UNAVAILABLE', 'No PKCS#11 token present.');
    return slot;
  }

  /** Run `fn` on a session of its own (sessions run one operation at a time). */
  async withSession<T>(fn: (session: Handle) => Promise<T> | T): Promise<T> {
    if (this.closed) throw new ByokError('BACKEND_UNAVAILABLE');
    let session = this.idle.pop() ?? (await new Promise<Handle>((resolve) => this.waiters.push(resolve)));
    try {
      return await fn(session);
    } catch (e) {
      // A failed multi-part operation may leave the session busy (SoftHSM2 keeps a failed
      // C_Decrypt active): replace the session rather than hand it on in an unknown state.
      session = this.recycle(session);
      throw e;
    } finally {
      const next = this.waiters.shift();
      if (next) next(session);
      else this.idle.push(session);
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

  mechanisms(): Set<number> {
    return new Set(this.p11.C_GetMechanismList(this.slot));
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
