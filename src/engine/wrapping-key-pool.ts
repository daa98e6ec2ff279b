/**
 * Wrapping key pairs generated ahead, so that get-parameters-for-import costs a token seal, not
 * an RSA key generation (~110 ms / 270 ms / 800 ms for 2048 / 3072 / 4096 here). Per spec: a
 * bounded queue, refilled in the background below a low-water mark, `concurrency` generations at
 * a time (default 1, so the event loop and the unwraps keep the cores; a backend with one
 * key-generation thread per core passes the core count to refill from all of them). A pair is handed out once and never reused;
 * pairs older than `maxAgeSeconds` are dropped (a device backend's wrapping keys have a lifetime).
 * When a queue is empty, the caller generates on demand and the `onDemand` counter says so.
 */
import type { WrappingKeySpec } from '../algorithms/specs.js';
import type { CryptoBackend, WrappingKeyPair } from '../backends/crypto-backend.js';
import { zeroize } from '../bytes.js';
import { systemClock, type Clock } from '../clock.js';

/** The backend a pool generates on, its target depth per spec, and when it refills. */
export interface WrappingKeyPoolOptions {
  readonly backend: CryptoBackend;
  /** Target depth per spec, e.g. { RSA_2048: 16, SM2: 16 }. Specs not listed are not pooled. */
  readonly targets: Partial<Record<WrappingKeySpec, number>>;
  /** Refill when a queue falls below this fraction of its target (default 0.5). */
  readonly lowWaterFraction?: number;
  /** Generations running at once while refilling (default 1). */
  readonly concurrency?: number;
  /** Drop pooled pairs older than this (default 3600 s). */
  readonly maxAgeSeconds?: number;
  readonly clock?: Clock;
}

interface Pooled {
  readonly pair: WrappingKeyPair;
  readonly createdAt: number;
}

/** Wrapping key pairs generated ahead per spec, so that getParametersForImport does not wait for a key generation. */
export class WrappingKeyPool {
  private readonly queues = new Map<WrappingKeySpec, Pooled[]>();
  private readonly clock: Clock;
  private readonly maxAgeMs: number;
  private readonly lowWater: number;
  private filling: Promise<void> | undefined;
  private closed = false;
  /** Pairs handed out from the pool, and generated on demand because a queue was empty. */
  readonly stats = { served: 0, onDemand: 0, generated: 0 };

  constructor(private readonly options: WrappingKeyPoolOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxAgeMs = (options.maxAgeSeconds ?? 3600) * 1000;
    this.lowWater = options.lowWaterFraction ?? 0.5;
    for (const spec of Object.keys(options.targets) as WrappingKeySpec[]) this.queues.set(spec, []);
  }

  /** Pairs ready now, over all specs (the /metrics gauge). */
  depth(spec?: WrappingKeySpec): number {
    if (spec) return this.queues.get(spec)?.length ?? 0;
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** A fresh pair: from the pool if one is ready, else generated now. */
  async take(spec: WrappingKeySpec): Promise<WrappingKeyPair> {
    const queue = this.queues.get(spec);
    const now = this.clock.now();
    while (queue && queue.length) {
      const item = queue.shift()!;
      if (now - item.createdAt <= this.maxAgeMs) {
        this.stats.served++;
        this.refill();
        return item.pair;
      }
      await this.discard(item.pair);
    }
    if (queue) this.stats.onDemand++;
    this.refill();
    return this.options.backend.generateWrappingKeyPair(spec);
  }

  /** Start filling below the low-water mark; resolves when every queue is at its target. */
  refill(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const needs = [...this.queues].some(([spec, q]) => q.length < (this.options.targets[spec] ?? 0) * this.lowWater || q.length === 0);
    if (!this.filling && needs) {
      // A failed generation (device gone, spec unsupported) ends this round; take() still works.
      this.filling = this.fill().catch(() => undefined).finally(() => {
        this.filling = undefined;
      });
    }
    return this.filling ?? Promise.resolve();
  }

  private async fill(): Promise<void> {
    const lanes = Math.max(1, Math.floor(this.options.concurrency ?? 1));
    await Promise.all(Array.from({ length: lanes }, () => this.fillLane()));
  }

  /** Generations in flight per spec, so that lanes do not overshoot a target. */
  private readonly generating = new Map<WrappingKeySpec, number>();

  private async fillLane(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      // The emptiest queue (relative to its target) first.
      let next: WrappingKeySpec | undefined;
      let lowest = 1;
      for (const [spec, q] of this.queues) {
        const target = this.options.targets[spec] ?? 0;
        const ratio = target ? (q.length + (this.generating.get(spec) ?? 0)) / target : 1;
        if (ratio < lowest) {
          lowest = ratio;
          next = spec;
        }
      }
      if (!next) return;
      const spec = next;
      this.generating.set(spec, (this.generating.get(spec) ?? 0) + 1);
      let pair: WrappingKeyPair;
      try {
        pair = await this.options.backend.generateWrappingKeyPair(spec);
      } finally {
        this.generating.set(spec, this.generating.get(spec)! - 1);
      }
      this.stats.generated++;
      if (this.closed) {
        await this.discard(pair);
        return;
      }
      this.queues.get(spec)!.push({ pair, createdAt: this.clock.now() });
    }
  }

  /** A pair that will never be handed out: the backend may destroy it (a device object), then zeroize. */
  private async discard(pair: WrappingKeyPair): Promise<void> {
    await this.options.backend.discardWrappingKey?.(pair.privateKeyBlob, 'unused').catch(() => undefined);
    zeroize(pair.privateKeyBlob);
  }

  /** Stop refilling, and discard the pooled pairs (a device destroys their keys). */
  async close(): Promise<void> {
    this.closed = true;
    await this.filling?.catch(() => undefined);
    for (const q of this.queues.values()) for (const item of q.splice(0)) await this.discard(item.pair);
  }
}
