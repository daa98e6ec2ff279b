/**
 * Prometheus text-format metrics (exposition format 0.0.4), written by hand: a few counters, one
 * histogram and one gauge do not need a client library.
 */

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** The service's counters, histogram and pool gauges; `render()` gives the /metrics text. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private latencySum = 0;
  private latencyCount = 0;
  /** Supplied by whoever owns a wrapping-key pool (0 when there is none). */
  poolDepth: () => number = () => 0;
  /** Wrapping key pairs generated on demand because the pool was empty. */
  poolOnDemand: () => number = () => 0;

  /** Count one answered request by dialect, action and status. */
  countRequest(dialect: string, action: string, status: number): void {
    const key = labels({ dialect, action, status: String(status) });
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** Count one error by its engine code. */
  countError(code: string): void {
    const key = labels({ code });
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  /** Add one import's latency to the histogram. */
  observeImport(seconds: number): void {
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]) this.buckets[i]++;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  /** The Prometheus text exposition of every metric. */
  render(): string {
    const out: string[] = [];
    out.push('# HELP byok_requests_total HTTP requests by dialect, action and status.', '# TYPE byok_requests_total counter');
    for (const [k, v] of this.requests) out.push(`byok_requests_total${k} ${v}`);
    out.push('# HELP byok_errors_total Errors by engine error code.', '# TYPE byok_errors_total counter');
    for (const [k, v] of this.errors) out.push(`byok_errors_total${k} ${v}`);
    out.push('# HELP byok_import_seconds Import latency: token check, unwrap, commit (the unwrap dominates).', '# TYPE byok_import_seconds histogram');
    LATENCY_BUCKETS.forEach((b, i) => out.push(`byok_import_seconds_bucket{le="${b}"} ${this.buckets[i]}`));
    out.push(`byok_import_seconds_bucket{le="+Inf"} ${this.latencyCount}`, `byok_import_seconds_sum ${this.latencySum}`, `byok_import_seconds_count ${this.latencyCount}`);
    out.push('# HELP byok_wrapping_key_pool_depth Pre-generated wrapping key pairs ready (0: generated per request).', '# TYPE byok_wrapping_key_pool_depth gauge');
    out.push(`byok_wrapping_key_pool_depth ${this.poolDepth()}`);
    out.push('# HELP byok_wrapping_key_pool_on_demand_total Wrapping key pairs generated on demand (pool empty).', '# TYPE byok_wrapping_key_pool_on_demand_total counter');
    out.push(`byok_wrapping_key_pool_on_demand_total ${this.poolOnDemand()}`);
    return out.join('\n') + '\n';
  }
}
