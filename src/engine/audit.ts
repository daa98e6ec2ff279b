/**
 * The audit wrapper: one record per key operation with its outcome (`ok` or the error code).
 * A record carries names and IDs only, never material, tokens or keys.
 */
import { isByokError } from '../errors.js';

/** What an operation may add to its audit record: never material, tokens or keys. */
export interface AuditDetails {
  keyId?: string;
  algorithm?: string;
  /** Which unwrap path ran (a device backend's native unwrap or the opt-in host decode). */
  unwrapPath?: string;
}

/**
 * Labels a caller attaches to the records of its calls (`ImportEngine.withAuditContext`): the
 * service's request ID, wire API and action. Names and IDs only.
 */
export type AuditContext = Readonly<Record<string, string>>;

/** One audit record per key operation (`onAudit`): operation, tenant, key, algorithm, outcome; never material, tokens or keys. */
export interface AuditRecord extends Readonly<AuditDetails> {
  readonly operation: string;
  readonly tenant: string;
  readonly outcome: 'ok' | string;
  /** The caller's labels, when it called through `withAuditContext`. */
  readonly context?: AuditContext;
}

/** Receives every audit record (`OpenEngineOptions.onAudit`). */
export type AuditSink = (record: AuditRecord) => void;

export class Audit {
  constructor(private readonly sink: AuditSink | undefined, private readonly context?: AuditContext) {}

  /** The same sink, the records labelled with `context`. */
  withContext(context: AuditContext): Audit {
    return new Audit(this.sink, context);
  }

  /**
   * Run one key operation and emit its record. `fn` may fill in what it learns on the way (the
   * key ID it created, the algorithm its token names, the unwrap path a device took). Inputs are
   * untrusted: only strings are recorded, and cut short.
   */
  async run<T>(operation: string, ref: { readonly tenant?: unknown; readonly keyId?: unknown }, algorithm: unknown, fn: (details: AuditDetails) => Promise<T>): Promise<T> {
    const details: AuditDetails = {
      ...(typeof ref.keyId === 'string' ? { keyId: ref.keyId.slice(0, 64) } : {}),
      ...(typeof algorithm === 'string' ? { algorithm: algorithm.slice(0, 40) } : {}),
    };
    const record = (outcome: string) => this.sink?.({ operation, tenant: String(ref.tenant ?? ''), outcome, ...details, ...(this.context ? { context: this.context } : {}) });
    try {
      const result = await fn(details);
      record('ok');
      return result;
    } catch (e) {
      record(isByokError(e) ? e.code : 'INTERNAL_ERROR');
      throw e;
    }
  }
}
