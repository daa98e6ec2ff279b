/**
 * What the request-signing schemes share: the request as signed (method, target, headers, raw
 * body), their hashes and HMACs, RFC 3986 encoding of paths and queries, the "K=V, K=V" parameters
 * of an Authorization header, ISO 8601 basic timestamps, the clock-skew bound, and the one
 * constant-time signature comparison. Pure functions: no HTTP framework.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ByokError } from '../../errors.js';

/** A request as its signer saw it. */
export interface SignedRequest {
  readonly method: string;
  /** The request target as sent: the percent-encoded path and query. */
  readonly url: string;
  /** Lower-cased names; repeated headers joined with ',' (RFC 9110 §5.3), as signers combine them. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body bytes exactly as received. */
  readonly body: Uint8Array;
}

/** What a fastify (or node) request offers: enough to rebuild the signed request. */
export interface IncomingLike {
  readonly method: string;
  readonly url: string;
  readonly raw: { readonly rawHeaders: readonly string[] };
}

/** The signed request of an incoming request: headers from the raw list, so repeats join with ',' (not node's ', '). */
export function signedRequestOf(req: IncomingLike, body: Uint8Array): SignedRequest {
  const headers: Record<string, string> = Object.create(null);
  const raw = req.raw.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    headers[name] = headers[name] === undefined ? raw[i + 1]! : `${headers[name]},${raw[i + 1]}`;
  }
  return { method: req.method, url: req.url, headers, body };
}

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
export const hmacSha256 = (key: string | Uint8Array, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** Constant-time equality of a computed signature and the one sent (lengths are public). */
export function signaturesEqual(computed: string, sent: string): boolean {
  const a = Buffer.from(computed, 'utf8');
  const b = Buffer.from(sent, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** RFC 3986 §2.3: everything but the unreserved characters percent-encoded, UTF-8, upper-case hex. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A percent-encoded component decoded, or undefined when it is not valid percent-encoding. */
export function uriDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The path and query of a request target (the query without its '?'). */
export function splitTarget(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/**
 * A canonical query string: each name and value decoded and re-encoded per RFC 3986, sorted by
 * name then value, joined with '&' (AWS SigV4, Huawei). `plusIsSpace`: the client's HTTP library
 * sends a space as '+' (axios, under the Huawei SDK); AWS's signers send '%20' and '+' is a plus.
 */
export function canonicalQuery(query: string, plusIsSpace = false): string {
  if (query === '') return '';
  const decode = (t: string) => {
    const text = plusIsSpace ? t.replace(/\+/g, ' ') : t;
    return uriEncode(uriDecode(text) ?? text);
  };
  const pairs = query.split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    return (eq < 0 ? [decode(p), ''] : [decode(p.slice(0, eq)), decode(p.slice(eq + 1))]) as readonly [string, string];
  });
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * The parameters of an Authorization header after its scheme: "Credential=a/b, SignedHeaders=x;y,
 * Signature=f". Undefined when a part is not Name=value or a name repeats.
 */
export function authorizationParams(text: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  for (const part of text.split(',').map((s) => s.trim())) {
    const eq = part.indexOf('=');
    if (eq <= 0 || params.has(part.slice(0, eq))) return undefined;
    params.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return params;
}

/** Signed header names: lower-case tokens separated by ';', none empty. */
function signedHeaderNames(text: string | undefined): string[] | undefined {
  if (text === undefined || !/^[a-z0-9!#$%&'*+.^_`|~-]+(;[a-z0-9!#$%&'*+.^_`|~-]+)*$/.test(text)) return undefined;
  return text.split(';');
}

/** The three parts every scheme's Authorization header carries after its algorithm name. */
export interface SignatureParts {
  /** The credential (AWS, Tencent: ID and scope) or access key ID (Huawei). */
  readonly credential: string;
  /** The signed headers' names, in the header's order. */
  readonly signed: readonly string[];
  /** 64 lower-case hex digits. */
  readonly signature: string;
}

/**
 * The parts of an `<algorithm> <credentialParam>=…, SignedHeaders=…, Signature=…` Authorization
 * header, each required headers among the signed ones; SIGNATURE_MALFORMED otherwise.
 */
export function signatureParts(req: SignedRequest, algorithm: string, credentialParam: string, mustSign: readonly string[]): SignatureParts {
  const header = req.headers['authorization'];
  if (header === undefined || !header.startsWith(`${algorithm} `)) throw malformed(`the Authorization header must be ${algorithm}`);
  const params = authorizationParams(header.slice(algorithm.length + 1));
  const credential = params?.get(credentialParam);
  const signature = params?.get('Signature');
  const signed = signedHeaderNames(params?.get('SignedHeaders'));
  if (!credential || signature === undefined || signed === undefined) throw malformed(`the Authorization header needs ${credentialParam}, SignedHeaders and Signature`);
  if (!/^[0-9a-f]{64}$/.test(signature)) throw malformed('the Signature must be 64 hex digits');
  if (mustSign.some((h) => !signed.includes(h))) throw malformed(`the ${mustSign.join(' and ')} headers must be signed`);
  return { credential, signed, signature };
}

/** "20150830T123600Z" (ISO 8601 basic, UTC) as milliseconds, or undefined. */
export function parseBasicTimestamp(text: string | undefined): number | undefined {
  const m = text === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Refuse dates that roll over (20150231 is not 20150303).
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 && s < 60 ? ms : undefined;
}

/**
 * The ISO 8601 basic time of a signed request's date header (X-Amz-Date, X-Sdk-Date), checked to
 * be within the skew of now; SIGNATURE_MALFORMED when absent or malformed.
 */
export function signedTime(req: SignedRequest, header: string, nowMs: number, maxSkewSeconds: number): string {
  const text = req.headers[header];
  const at = parseBasicTimestamp(text);
  if (text === undefined || at === undefined) throw malformed(`the ${header} header must be an ISO 8601 basic UTC time (yyyymmddThhmmssZ)`);
  checkSkew(at, nowMs, maxSkewSeconds);
  return text;
}

/** Refuses a signature made more than `maxSkewSeconds` before or after now: it may be a replay, or a clock is wrong. */
export function checkSkew(signedAtMs: number, nowMs: number, maxSkewSeconds: number): void {
  if (Math.abs(nowMs - signedAtMs) > maxSkewSeconds * 1000) {
    throw new ByokError('SIGNATURE_EXPIRED', `The request signature has expired: its time differs from the service's by more than ${maxSkewSeconds} seconds.`);
  }
}

/** A malformed or incomplete signature: what is missing, never an echo of what was sent. */
export const malformed = (what: string) => new ByokError('SIGNATURE_MALFORMED', `The request signature is incomplete: ${what}.`);

/** The signature does not match (one message, whichever part differed). */
export const mismatch = () => new ByokError('SIGNATURE_MISMATCH');

/** "name:value\n" for each signed header, the value trimmed (and its inner runs of spaces collapsed when asked: SigV4). */
export function canonicalHeaders(req: SignedRequest, names: readonly string[], collapseSpaces: boolean): string | undefined {
  let out = '';
  for (const name of names) {
    const value = req.headers[name];
    if (value === undefined) return undefined;
    const v = value.trim();
    out += `${name}:${collapseSpaces ? v.replace(/\s+/g, ' ') : v}\n`;
  }
  return out;
}

/**
 * The body's hex SHA-256, checked against a content-hash header the signer may send (AWS
 * x-amz-content-sha256, Huawei X-Sdk-Content-Sha256): a signed hash must be the body's, and an
 * unsigned payload is refused, since the body is what the signature protects.
 */
export function payloadHash(req: SignedRequest, contentHashHeader: string): string {
  const actual = sha256Hex(req.body);
  const declared = req.headers[contentHashHeader];
  if (declared !== undefined && !signaturesEqual(actual, declared.toLowerCase())) {
    throw new ByokError('SIGNATURE_MISMATCH', `The ${contentHashHeader} header is not the SHA-256 of the body (unsigned payloads are not accepted).`);
  }
  return actual;
}
