/** Injected time source: everything that expires takes a Clock, so tests never sleep. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The real time. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  /** Move the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.ms += ms;
  }
  /** Set the clock to `ms` milliseconds since the epoch. */
  set(ms: number): void {
    this.ms = ms;
  }
}

/** The clock's time in whole seconds since the epoch. */
export function nowSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
