/**
 * Huawei Cloud's AK/SK signing (SDK-HMAC-SHA256), verified as the Huawei SDKs sign: the canonical
 * request over the method, the canonical URI (each path segment RFC 3986-encoded, ending in '/'),
 * the sorted query, the signed headers lower-cased with trimmed values (Host with its port), and
 * the body's hex SHA-256; the string to sign over X-Sdk-Date; the signature the hex HMAC-SHA256
 * of the secret key over it, with no key derivation.
 */
import { ByokError } from '../../errors.js';
import type { AccessKey, AccessKeys } from './access-keys.js';
import {
  canonicalHeaders, canonicalQuery, hmacSha256, malformed, mismatch, payloadHash, sha256Hex, signatureParts, signaturesEqual, signedTime,
  splitTarget, uriEncode, type SignedRequest,
} from './canonical.js';

export const SDK_HMAC_ALGORITHM = 'SDK-HMAC-SHA256';

/** Huawei's API gateway accepts a signed request within 15 minutes of its X-Sdk-Date. */
export const SDK_HMAC_MAX_SKEW_SECONDS = 15 * 60;

/** The SDK's canonical URI: every segment of the path as sent encoded (again), and a trailing '/'. */
function canonicalUri(path: string): string {
  const uri = path.split('/').map(uriEncode).join('/');
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** The hex SDK-HMAC-SHA256 signature of a canonical request. */
export function sdkHmacSignature(secret: string, sdkDate: string, canonicalRequest: string): string {
  return hmacSha256(secret, [SDK_HMAC_ALGORITHM, sdkDate, sha256Hex(canonicalRequest)].join('\n')).toString('hex');
}

/**
 * The access key that signed `req` with SDK-HMAC-SHA256, or a ByokError (all APIG.0301 on
 * Huawei's wire): SIGNATURE_MALFORMED, SIGNATURE_EXPIRED, ACCESS_KEY_UNKNOWN, SIGNATURE_MISMATCH.
 */
export function verifySdkHmac(req: SignedRequest, keys: AccessKeys, nowMs: number, maxSkewSeconds = SDK_HMAC_MAX_SKEW_SECONDS): AccessKey {
  const auth = signatureParts(req, SDK_HMAC_ALGORITHM, 'Access', ['host', 'x-sdk-date']);
  const sdkDate = signedTime(req, 'x-sdk-date', nowMs, maxSkewSeconds);
  const key = keys.find(auth.credential);
  if (!key) throw new ByokError('ACCESS_KEY_UNKNOWN');
  const { path, query } = splitTarget(req.url);
  const headers = canonicalHeaders(req, auth.signed, false);
  if (headers === undefined) throw malformed('a signed header is missing from the request');
  const canonical = [req.method.toUpperCase(), canonicalUri(path), canonicalQuery(query, true), headers, auth.signed.join(';'), payloadHash(req, 'x-sdk-content-sha256')].join('\n');
  if (!signaturesEqual(sdkHmacSignature(key.secret, sdkDate, canonical), auth.signature)) throw mismatch();
  return key;
}
