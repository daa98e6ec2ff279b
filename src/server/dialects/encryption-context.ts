/**
 * An encryption context as AES-GCM / SM4-GCM associated data, one canonical form for every
 * dialect: Tencent's `EncryptionContext` (a JSON object string) and AWS's `EncryptionContext`
 * (a map) give the same bytes for the same pairs, in any order, so a blob made through one
 * dialect opens through the other. The bytes are the UTF-8 JSON of the pairs sorted by key
 * (UTF-16 code units, as JSON.stringify writes them), with no whitespace. An absent or empty
 * context is no associated data, as a blob made without one was.
 */
import { ByokError } from '../../errors.js';

/** String keys to string values (AWS's rule; Tencent's key/value pairs). */
export type EncryptionContext = Readonly<Record<string, string>>;

/** The associated data of a context, or undefined for none. */
export function encryptionContextAad(context: EncryptionContext | undefined): Uint8Array | undefined {
  if (context === undefined) return undefined;
  const keys = Object.keys(context).sort();
  if (keys.length === 0) return undefined;
  for (const k of keys) {
    if (k.length === 0 || typeof context[k] !== 'string') throw new ByokError('INVALID_PARAMETER', 'An encryption context maps non-empty keys to string values.');
  }
  // Written pair by pair: an object would put integer-like keys ("9" before "10") first.
  return new Uint8Array(Buffer.from(`{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(context[k])}`).join(',')}}`, 'utf8'));
}

/** A context given as a JSON object string (Tencent): anything else is INVALID_PARAMETER. */
export function parseEncryptionContextJson(json: string): EncryptionContext {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new ByokError('INVALID_PARAMETER', 'EncryptionContext must be a JSON object of string values.');
  }
  return parsed as EncryptionContext;
}

/** The associated data of a JSON context string, or undefined when there is none. */
export function jsonEncryptionContextAad(json: string | undefined): Uint8Array | undefined {
  return json === undefined || json === '' ? undefined : encryptionContextAad(parseEncryptionContextJson(json));
}
