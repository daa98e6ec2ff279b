/**
 * Tencent Cloud API 3.0 signature v3 (TC3-HMAC-SHA256), verified as Tencent documents it: the
 * canonical request over the method, path, query, the signed headers (content-type and host at
 * least) and the body's hex SHA-256; the string to sign over X-TC-Timestamp and the credential
 * scope <date>/<service>/tc3_request; the signing key chained from "TC3" + secret through the
 * date and the service. The service and date come from the scope: the Node SDK names the service
 * after the endpoint's first host label ("127" for 127.0.0.1) and signs Host without its port,
 * the Python SDK signs "kms" and Host with it, so both Host forms are tried.
 */
import { ByokError } from '../../errors.js';
import type { AccessKey, AccessKeys } from './access-keys.js';
import {
  canonicalHeaders, checkSkew, hmacSha256, malformed, mismatch, sha256Hex, signatureParts, signaturesEqual, splitTarget, type SignedRequest,
} from './canonical.js';

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';

/** Tencent: "Timestamp and server time cannot differ by more than 5 minutes". */
export const TC3_MAX_SKEW_SECONDS = 5 * 60;

/** The UTC date (yyyy-mm-dd) of a Unix time, as the scope names it. */
const utcDate = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);

/** The scope of a TC3 credential, or SIGNATURE_MALFORMED (AuthFailure.InvalidAuthorization). */
function parseScope(credential: string) {
  const scope = credential.split('/');
  if (scope.length !== 4 || scope.some((p) => p === '') || scope[3] !== 'tc3_request' || !/^\d{4}-\d{2}-\d{2}$/.test(scope[1]!)) {
    throw malformed('the Credential must be <SecretId>/<yyyy-mm-dd>/<service>/tc3_request');
  }
  const [secretId, date, service] = scope as [string, string, string, string];
  return { secretId, date, service };
}

/** The hex TC3 signature of a canonical request (Tencent's "signature v3", steps 2-4). */
export function tc3Signature(secret: string, timestamp: number, scope: { date: string; service: string }, canonicalRequest: string): string {
  const stringToSign = [TC3_ALGORITHM, String(timestamp), `${scope.date}/${scope.service}/tc3_request`, sha256Hex(canonicalRequest)].join('\n');
  const kDate = hmacSha256(`TC3${secret}`, scope.date);
  const kSigning = hmacSha256(hmacSha256(kDate, scope.service), 'tc3_request');
  return hmacSha256(kSigning, stringToSign).toString('hex');
}

/** The Host values a Tencent SDK may have signed: as sent and, when it has a port, without it. */
function hostForms(host: string): string[] {
  const withoutPort = host.replace(/:\d+$/, '');
  return withoutPort === host ? [host] : [host, withoutPort];
}

/**
 * The access key that signed `req` with TC3-HMAC-SHA256, or a ByokError: SIGNATURE_MALFORMED
 * (AuthFailure.InvalidAuthorization), SIGNATURE_EXPIRED (AuthFailure.SignatureExpire),
 * ACCESS_KEY_UNKNOWN (AuthFailure.SecretIdNotFound), SIGNATURE_MISMATCH (AuthFailure.SignatureFailure).
 */
export function verifyTc3(req: SignedRequest, keys: AccessKeys, nowMs: number, maxSkewSeconds = TC3_MAX_SKEW_SECONDS): AccessKey {
  const auth = signatureParts(req, TC3_ALGORITHM, 'Credential', ['content-type', 'host']);
  const scope = parseScope(auth.credential);
  const timestampText = req.headers['x-tc-timestamp'];
  if (timestampText === undefined || !/^\d{1,12}$/.test(timestampText)) throw malformed('the X-TC-Timestamp header must be a Unix time in seconds');
  const timestamp = Number(timestampText);
  checkSkew(timestamp * 1000, nowMs, maxSkewSeconds);
  if (scope.date !== utcDate(timestamp)) throw new ByokError('SIGNATURE_MISMATCH', 'The credential scope\'s date must be the UTC date of X-TC-Timestamp.');
  const key = keys.find(scope.secretId);
  if (!key) throw new ByokError('ACCESS_KEY_UNKNOWN');
  const { path, query } = splitTarget(req.url);
  const bodyHash = sha256Hex(req.body);
  const host = req.headers['host'] ?? '';
  // Every form is computed and compared, so the time taken does not say which one matched.
  let matched = false;
  for (const form of hostForms(host)) {
    const headers = canonicalHeaders({ ...req, headers: { ...req.headers, host: form } }, auth.signed, false);
    if (headers === undefined) throw malformed('a signed header is missing from the request');
    const canonical = [req.method.toUpperCase(), path, query, headers, auth.signed.join(';'), bodyHash].join('\n');
    if (signaturesEqual(tc3Signature(key.secret, timestamp, scope, canonical), auth.signature)) matched = true;
  }
  if (!matched) throw mismatch();
  return key;
}
