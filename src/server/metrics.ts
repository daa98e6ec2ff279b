/**
 * Prometheus text-format metrics (exposition format 0.0.4), written by hand: a few counters, one
 * histogram and one gauge do not need a client library.
 */

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Series per counter, at most. The label values come from known sets (dialect and operation
 * names, HTTP statuses, error codes), so this is never reached in use; it bounds memory and the
 * /metrics size even if a caller's text ever reached a label (issue 14, defect 3).
 */
export const MAX_SERIES = 512;

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** The service's counters, histogram and pool gauges; `render()` gives the /metrics text. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private droppedSeries = 0;
  private latencySum = 0;
  private latencyCount = 0;
  /** Supplied by whoever owns a wrapping-key pool (0 when there is none). */
  poolDepth: () => number = () => 0;
  /** Wrapping key pairs generated on demand because the pool was empty. */
  poolOnDemand: () => number = () => 0;

  /** Count one answered request. `action` is an operation name or `unknown` (dialectOf), never the caller's text. */
  countRequest(dialect: string, action: string, status: number): void {
    this.increment(this.requests, labels({ dialect, action, status: String(status) }));
  }

  /** Count one error by its engine code. */
  countError(code: string): void {
    this.increment(this.errors, labels({ code }));
  }

  private increment(series: Map<string, number>, key: string): void {
    const count = series.get(key);
    if (count === undefined && series.size >= MAX_SERIES) this.droppedSeries++;
    else series.set(key, (count ?? 0) + 1);
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
    out.push(`# HELP byok_metric_series_dropped_total Counts not recorded because a counter had ${MAX_SERIES} series.`, '# TYPE byok_metric_series_dropped_total counter');
    out.push(`byok_metric_series_dropped_total ${this.droppedSeries}`);
    return out.join('\n') + '\n';
  }
}
