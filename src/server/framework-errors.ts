/**
 * Errors raised by the framework rather than by an operation — a malformed URL, a body that is
 * not JSON or too large, a socket that times out — answered like every other error: in the
 * caller's dialect, with an x-request-id, never fastify's or node's own body and never an echo
 * of what the caller sent (issue 14, defect 7).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ByokError, isByokError } from '../errors.js';
import type { Dialect } from './dialects/dialect.js';
import { dialectOf, errorReply } from './dialects/register.js';
import type { Metrics } from './metrics.js';

/** Framework errors that are the client's fault, as a clear ByokError (never the raw error, never its text). */
export function frameworkClientError(err: FastifyError): ByokError | undefined {
  if (err.validation) return new ByokError('INVALID_PARAMETER', `Invalid request: ${err.message}`);
  switch (err.code) {
    case 'FST_ERR_BAD_URL': return new ByokError('INVALID_PARAMETER', 'The request URL is not validly encoded.');
    case 'FST_ERR_MAX_PARAM_LENGTH': return new ByokError('INVALID_PARAMETER', 'A path parameter is too long.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new ByokError('INVALID_PARAMETER', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return new ByokError('INVALID_PARAMETER', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new ByokError('INVALID_PARAMETER', 'The request body is empty.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new ByokError('INVALID_PARAMETER', 'The request body must be application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return new ByokError('INVALID_PARAMETER', 'The Content-Length does not match the body.');
    default: return undefined;
  }
}

/** The one error answer: log it (a foreign error by type and frames only), count it, send it in the request's dialect. */
export function errorAnswer(dialects: readonly Dialect[], metrics: Metrics) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const known = isByokError(err) ? err : frameworkClientError(err);
    if (!known) {
      // The message of a foreign error may carry bytes: log its type and frames, never its text.
      req.log.error({ err: { type: err.name, code: err.code, stack: err.stack?.split('\n').slice(1).join('\n') } }, 'internal error');
    } else {
      req.log[known.fault === 'server' ? 'error' : 'info']({ errorCode: known.code }, 'request refused');
    }
    const error = known ?? new ByokError('INTERNAL_ERROR');
    metrics.countError(error.code);
    const { dialect, action } = dialectOf(dialects, req);
    const { status, body } = errorReply(dialect, error, req.id);
    metrics.countRequest(dialect.name, action, status);
    // Set here as well as in the plugin's onSend: errors raised before routing (a bad URL) skip its hooks.
    if (dialect.requestIdHeader !== undefined) reply.header(dialect.requestIdHeader, req.id);
    return reply.header('x-request-id', req.id).status(status).send(body);
  };
}

/** Node's socket-level failures (header timeout, request timeout, oversize headers, unparsable HTTP). */
const SOCKET_ERRORS: Readonly<Record<string, { status: number; message: string }>> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in time.' },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'The request headers are too large.' },
};

/**
 * fastify's `clientErrorHandler`: the request was never parsed, so its dialect is unknown; the
 * answer is the first dialect's error format with a fresh request ID, then the socket closes.
 */
export function socketErrorAnswer(dialects: readonly Dialect[]) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, message } = SOCKET_ERRORS[err.code ?? ''] ?? { status: 400, message: 'The request is not valid HTTP.' };
    const requestId = randomUUID();
    const answer = errorReply(dialects[0], new ByokError('INVALID_PARAMETER', message), requestId);
    const body = JSON.stringify(answer.body);
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n`
        + `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy(err);
  };
}
