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
  private readonly idle: Handle[] = [];
  private readonly all: Handle[] = [];
  private readonly waiters: Array<(s: Handle) => void> = [];
  private closed = false;

  constructor(selection: TokenSelection) {
    this.lib = loadPkcs11Js();
    if (!existsSync(selection.modulePath)) throw new ByokError('BACKEND_UNAVAILABLE', `PKCS#11 module not found: ${selection.modulePath}`);
    this.p11 = new this.lib.PKCS11();
    this.p11.load(selection.modulePath);
    // OS locking: without it the *Async calls were seen spinning (MEASURED.md).
    this.p11.C_Initialize({ flags: this.lib.CKF_OS_LOCKING_OK });
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
      this.p11.C_Finalize();
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
    const session = this.idle.pop() ?? (await new Promise<Handle>((resolve) => this.waiters.push(resolve)));
    try {
      return await fn(session);
    } finally {
      const next = this.waiters.shift();
      if (next) next(session);
      else this.idle.push(session);
    }
  }

  mechanisms(): Set<number> {
    return new Set(this.p11.C_GetMechanismList(this.slot));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.p11.C_Logout(this.all[0]);
    } catch { /* already logged out */ }
    for (const s of this.all) {
      try {
        this.p11.C_CloseSession(s);
      } catch { /* closing anyway */ }
    }
    this.p11.C_Finalize();
  }
}
