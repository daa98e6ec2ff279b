/**
 * A bounded cache of parsed wrapping private keys, keyed by a token digest. Parsing PKCS#8 costs
 * ~300 µs against a ~230 µs RSA-2048 decrypt (MEASURED.md), so repeated unwraps with one token
 * (retries, benchmarks) should not pay it twice. Entries are dropped at the token's expiry and
 * the oldest entry goes first when full (Map keeps insertion order; a hit re-inserts).
 */
import type { Clock } from '../clock.js';

export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly capacity: number,
    private readonly clock: Clock,
    private readonly onEvict?: (value: V) => void,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.until <= this.clock.now()) {
      this.onEvict?.(entry.value);
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, until: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      if (old.value !== value) this.onEvict?.(old.value);
    }
    this.entries.set(key, { value, until });
    while (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, { value: V }];
      this.entries.delete(oldestKey);
      this.onEvict?.(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const { value } of this.entries.values()) this.onEvict?.(value);
    this.entries.clear();
  }
}
