/**
 * AWS Signature Version 4 (AWS4-HMAC-SHA256) in the Authorization header, verified as AWS's
 * SigV4 reference describes it: the canonical request (method, normalized and URI-encoded path,
 * sorted query, the signed headers lower-cased with trimmed values, the body's SHA-256), the
 * string to sign over X-Amz-Date and the credential scope <date>/<region>/<service>/aws4_request,
 * and the signing key chained from "AWS4" + secret through date, region, service, aws4_request.
 * Any region; the service is the caller's (`kms` for the AWS dialect); bounded clock skew.
 */
import { ByokError } from '../../errors.js';
import type { AccessKey, AccessKeys } from './access-keys.js';
import {
  canonicalHeaders, canonicalQuery, hmacSha256, malformed, mismatch, payloadHash, sha256Hex, signatureParts, signaturesEqual, signedTime,
  splitTarget, uriEncode, type SignedRequest,
} from './canonical.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** AWS refuses a request signed more than 15 minutes before or after its own time. */
export const SIGV4_MAX_SKEW_SECONDS = 15 * 60;

export interface SigV4Options {
  /** The service the scope must name (`kms`). */
  readonly service: string;
  /** Default SIGV4_MAX_SKEW_SECONDS. */
  readonly maxSkewSeconds?: number;
}

/**
 * The canonical URI of a non-S3 service: dot segments and empty segments removed, and each
 * segment of the path as sent URI-encoded once more (the signers encode their already-encoded
 * path again: "/a%20b" signs as "/a%2520b").
 */
function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '' || raw === '.') continue;
    if (raw === '..') segments.pop();
    else segments.push(uriEncode(raw));
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.join('/')}${trailing}`;
}

/** The scope of an AWS4-HMAC-SHA256 credential, or SIGNATURE_MALFORMED (AWS IncompleteSignature). */
function parseScope(credential: string) {
  const scope = credential.split('/');
  if (scope.length !== 5 || scope.some((p) => p === '') || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]!)) {
    throw malformed('the Credential must be <access key ID>/<yyyymmdd>/<region>/<service>/aws4_request');
  }
  const [accessKeyId, date, region, service] = scope as [string, string, string, string, string];
  return { accessKeyId, date, region, service };
}

/** The canonical request (AWS SigV4, "Create a canonical request"). */
export function sigV4CanonicalRequest(req: SignedRequest, signed: readonly string[]): string {
  const { path, query } = splitTarget(req.url);
  const headers = canonicalHeaders(req, signed, true);
  if (headers === undefined) throw malformed('a signed header is missing from the request');
  return [req.method.toUpperCase(), canonicalUri(path), canonicalQuery(query), headers, signed.join(';'), payloadHash(req, 'x-amz-content-sha256')].join('\n');
}

/** The hex signature of a canonical request under a secret and scope. */
export function sigV4Signature(secret: string, amzDate: string, scope: { date: string; region: string; service: string }, canonicalRequest: string): string {
  const stringToSign = [SIGV4_ALGORITHM, amzDate, `${scope.date}/${scope.region}/${scope.service}/aws4_request`, sha256Hex(canonicalRequest)].join('\n');
  let key = hmacSha256(`AWS4${secret}`, scope.date);
  for (const part of [scope.region, scope.service, 'aws4_request']) key = hmacSha256(key, part);
  return hmacSha256(key, stringToSign).toString('hex');
}

/**
 * The access key that signed `req` with SigV4, or a ByokError: SIGNATURE_MALFORMED (no or a
 * malformed header, no X-Amz-Date, host or the date unsigned), SIGNATURE_EXPIRED (outside the
 * skew), ACCESS_KEY_UNKNOWN (the key ID is not configured), SIGNATURE_MISMATCH (wrong service,
 * or the signature is not the secret's).
 */
export function verifySigV4(req: SignedRequest, keys: AccessKeys, nowMs: number, options: SigV4Options): AccessKey {
  const parts = signatureParts(req, SIGV4_ALGORITHM, 'Credential', ['host', 'x-amz-date']);
  const scope = parseScope(parts.credential);
  const amzDate = signedTime(req, 'x-amz-date', nowMs, options.maxSkewSeconds ?? SIGV4_MAX_SKEW_SECONDS);
  if (scope.date !== amzDate.slice(0, 8)) throw new ByokError('SIGNATURE_MISMATCH', 'The credential scope\'s date must be the date of X-Amz-Date.');
  if (scope.service !== options.service) throw new ByokError('SIGNATURE_MISMATCH', `The credential must be scoped to the service '${options.service}'.`);
  const key = keys.find(scope.accessKeyId);
  if (!key) throw new ByokError('ACCESS_KEY_UNKNOWN');
  const expected = sigV4Signature(key.secret, amzDate, scope, sigV4CanonicalRequest(req, parts.signed));
  if (!signaturesEqual(expected, parts.signature)) throw mismatch();
  return key;
}
