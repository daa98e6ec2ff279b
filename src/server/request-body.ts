/**
 * Request bodies, read so that a signature can be checked over their exact bytes before anything
 * about them is reported: one content-type parser keeps the raw body of every request and parses
 * JSON (fastify's own parser, prototype poisoning refused), and whatever is wrong with the body
 * (not JSON, empty, another media type) is held back until the caller is authenticated.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ByokError } from '../errors.js';

interface ReadBody {
  readonly raw: Uint8Array;
  /** What was wrong with it, reported after authentication. */
  error?: unknown;
}

const bodies = new WeakMap<FastifyRequest, ReadBody>();

const EMPTY = new Uint8Array(0);

/** The media type of a Content-Type header, lower-cased and without parameters ("application/json"). */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** JSON and the JSON-based types (AWS's application/x-amz-json-1.1, RFC 6839 "+json"). */
const isJson = (type: string) => type === 'application/json' || type.endsWith('+json') || /^application\/x-amz-json-1\.[01]$/.test(type);

/** Replaces the context's parsers with the one that keeps raw bodies (an encapsulated context: the host's parsers stay). */
export function installBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, raw, done) => {
    const entry: ReadBody = { raw: raw as Buffer };
    bodies.set(req, entry);
    if (!isJson(mediaTypeOf(req.headers['content-type']))) return done(null, undefined);
    parseJson(req, (raw as Buffer).toString('utf8'), (err, value) => {
      if (err) entry.error = err;
      done(null, err ? undefined : value);
    });
  });
}

/** The body's bytes as received (empty when the request had none). */
export function rawBodyOf(req: FastifyRequest): Uint8Array {
  return bodies.get(req)?.raw ?? EMPTY;
}

/** Throws what was wrong with the body (call once the caller is authenticated): not JSON, or not one of `mediaTypes`. */
export function checkBody(req: FastifyRequest, mediaTypes: readonly string[]): void {
  const body = bodies.get(req);
  if (!body) return;
  if (!mediaTypes.includes(mediaTypeOf(req.headers['content-type']))) {
    throw new ByokError('INVALID_PARAMETER', `The request body must be ${mediaTypes.join(' or ')}.`);
  }
  if (body.error !== undefined) throw body.error;
}
