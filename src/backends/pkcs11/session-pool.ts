/**
 * The bounded pool of R/W sessions, and who owns what on them. PKCS#11 destroys every session
 * object a session made when that session closes (PKCS#11 2.40 §5.6 C_CloseSession), other
 * requests' too: so a session that failed is retired, not closed — it leaves the pool (a fresh
 * one takes its place) and is closed only once no object made on it is still held. A wait for
 * a free session has a timeout.
 */
import { ByokError } from '../../errors.js';
import type { Handle } from './pkcs11js.js';

/** One session of the pool and the number of objects made on it that are still held. */
export class PooledSession {
  /** Objects made on this session and held beyond the operation (released later). */
  owned = 0;
  /** Out of the pool: closed as soon as `owned` is 0. */
  retired = false;
  constructor(readonly handle: Handle) {}
}

/** How the pool reaches the device. */
export interface SessionSource {
  open(): Handle;
  close(session: Handle): void;
}

interface Waiter {
  resolve(s: PooledSession): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

export class SessionPool {
  private readonly idle: PooledSession[] = [];
  private readonly live = new Set<PooledSession>();
  private readonly retired = new Set<PooledSession>();
  private readonly byHandle = new Map<Handle, PooledSession>();
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly source: SessionSource,
    /** Sessions in the pool (at least 1). */
    private readonly size: number,
    /** How long an operation waits for a free session before DEVICE_UNAVAILABLE, ms. */
    private readonly waitMs: number,
    initial: readonly Handle[] = [],
  ) {
    for (const h of initial) this.idle.push(this.track(h));
  }

  /** Sessions open on the device (in the pool or retired), for tests and the report. */
  get openSessions(): number {
    return this.live.size + this.retired.size;
  }

  private track(handle: Handle): PooledSession {
    const s = new PooledSession(handle);
    this.live.add(s);
    this.byHandle.set(handle, s);
    return s;
  }

  /** Open sessions until the pool is full again (after a failure or a lost session); best effort. */
  private refill(): void {
    while (this.live.size < this.size) {
      let handle: Handle;
      try {
        handle = this.source.open();
      } catch {
        return; // the device is gone for now: recovery or the next acquire tries again
      }
      this.hand(this.track(handle));
    }
  }

  /** A free session: an idle one, a fresh one if the pool is short, or the next one returned. */
  acquire(): Promise<PooledSession> {
    if (!this.idle.length) this.refill();
    const free = this.idle.pop();
    if (free) return Promise.resolve(free);
    return new Promise<PooledSession>((resolve, reject) => {
      const waiter: Waiter = {
        resolve, reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new ByokError('DEVICE_UNAVAILABLE', `No PKCS#11 session became free within ${this.waitMs} ms.`));
        }, this.waitMs),
      };
      this.waiters.push(waiter);
    });
  }

  private hand(s: PooledSession): void {
    const next = this.waiters.shift();
    if (!next) {
      this.idle.push(s);
      return;
    }
    clearTimeout(next.timer);
    next.resolve(s);
  }

  /**
   * Give a session back. After a failure its state is unknown (SoftHSM2 keeps a failed
   * multi-part operation active): it is retired and a fresh session takes its place.
   */
  release(s: PooledSession, failed: boolean): void {
    if (!failed && !s.retired && this.live.has(s)) {
      this.hand(s);
      return;
    }
    this.retire(s);
    this.refill();
  }

  /** Take a session out of the pool; closed now if it owns nothing, else when its last object goes. */
  retire(s: PooledSession): void {
    if (s.retired && !this.retired.has(s)) return; // closed or dropped already
    const i = this.idle.indexOf(s);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.live.delete(s)) this.retired.add(s);
    s.retired = true;
    if (s.owned === 0) this.forget(s, true);
  }

  /**
   * Stop tracking a session; close it only if the device still knows it: a handle the device
   * forgot may already name a new session (handles are reused), which must not be closed.
   */
  private forget(s: PooledSession, close: boolean): void {
    this.retired.delete(s);
    this.live.delete(s);
    this.byHandle.delete(s.handle);
    if (!close) return;
    try {
      this.source.close(s.handle);
    } catch { /* already closed under us */ }
  }

  /** The session an object is being made on will own it until `disown`. */
  own(session: Handle): PooledSession | undefined {
    const s = this.byHandle.get(session);
    if (s) s.owned++;
    return s;
  }

  /** An object made on `s` is gone: a retired session owning nothing more is closed. */
  disown(s: PooledSession | undefined): void {
    if (!s || s.owned === 0) return;
    s.owned--;
    if (s.owned === 0 && s.retired && this.retired.has(s)) this.forget(s, true);
  }

  /** A session the device no longer knows: out of the pool, and its objects went with it. */
  drop(s: PooledSession): void {
    const i = this.idle.indexOf(s);
    if (i >= 0) this.idle.splice(i, 1);
    s.owned = 0;
    s.retired = true;
    this.forget(s, false);
  }

  /**
   * Recovery: drop every idle session the device no longer knows (`valid` false), owned objects
   * and all (they went with the session), and refill the pool.
   */
  dropInvalid(valid: (session: Handle) => boolean): void {
    for (const s of [...this.idle, ...this.retired]) {
      if (!valid(s.handle)) this.drop(s);
    }
    this.refill();
  }

  /** Close every session (the backend's close); waiters get BACKEND_UNAVAILABLE. */
  closeAll(): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new ByokError('BACKEND_UNAVAILABLE', 'The PKCS#11 backend is closed.'));
    }
    for (const s of [...this.live, ...this.retired]) {
      s.owned = 0;
      s.retired = true;
      this.forget(s, true);
    }
    this.idle.length = 0;
  }
}
