/**
 * Audit: one record per key operation (who, which key, which algorithm, outcome), written as a
 * structured log line. The engine emits the records; the request they belong to (request ID,
 * dialect, action) comes with them as the record's context (the routes call the engine through
 * `withAuditContext`), and only named fields are copied so a record can never carry material,
 * tokens or keys.
 */
import type { AuditRecord } from '../engine/import-engine.js';

/** The request an audit record was made in: its ID, dialect and action. */
export interface RequestContext {
  readonly requestId: string;
  readonly dialect: string;
  readonly action: string;
}

/** The record's request, when its context names one (a record made outside a request has none). */
function requestOf(record: AuditRecord): RequestContext | undefined {
  const c = record.context;
  return c && typeof c.requestId === 'string' ? { requestId: c.requestId, dialect: String(c.dialect), action: String(c.action) } : undefined;
}

/** The audit record as logged: named fields only, with the request it belongs to. */
export interface AuditLine {
  readonly operation: string;
  readonly tenant: string;
  readonly keyId?: string;
  readonly algorithm?: string;
  readonly unwrapPath?: string;
  readonly outcome: string;
  readonly requestId?: string;
  readonly dialect?: string;
  readonly action?: string;
}

/** Field by field: nothing the engine might add later reaches the log unless named here. */
export function auditLine(record: AuditRecord, ctx: RequestContext | undefined = requestOf(record)): AuditLine {
  return {
    operation: record.operation,
    tenant: record.tenant,
    ...(record.keyId !== undefined ? { keyId: record.keyId } : {}),
    ...(record.algorithm !== undefined ? { algorithm: record.algorithm } : {}),
    ...(record.unwrapPath !== undefined ? { unwrapPath: record.unwrapPath } : {}),
    outcome: record.outcome,
    ...(ctx ? { requestId: ctx.requestId, dialect: ctx.dialect, action: ctx.action } : {}),
  };
}

/** What auditSink writes to: any logger with pino's `info(obj, msg)`. */
export interface AuditLogger {
  /** Write one log line. */
  info(obj: object, msg: string): void;
}

/** The engine's `onAudit` callback: one `"msg":"audit"` log line per record. */
export function auditSink(logger: AuditLogger): (record: AuditRecord) => void {
  return (record) => logger.info({ audit: auditLine(record) }, 'audit');
}
