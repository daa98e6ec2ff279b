/**
 * Checks of the inputs every job of the engine shares. The types say what is allowed; these
 * checks hold for JS callers and wire dialects too, which reach the engine untyped.
 */
import { fromBase64Strict } from '../bytes.js';
import { ByokError } from '../errors.js';
import { KEY_ID_PATTERN } from './ciphertext-blob.js';

export function requireTenant(tenant: unknown): string {
  if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 128) throw new ByokError('INVALID_PARAMETER', 'A tenant is required.');
  return tenant;
}

export function requireKeyId(keyId: unknown): string {
  if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) throw new ByokError('INVALID_KEY_ID');
  return keyId;
}

/** AWS's alias names: `alias/` then [A-Za-z0-9/_-], 256 characters at most in all. */
export const ALIAS_PREFIX = 'alias/';
const ALIAS_NAME_PATTERN = /^alias\/[A-Za-z0-9/_-]{1,250}$/;

export function requireAliasName(aliasName: unknown): string {
  if (typeof aliasName !== 'string' || !ALIAS_NAME_PATTERN.test(aliasName)) {
    throw new ByokError('INVALID_PARAMETER', 'An alias name is alias/ followed by 1 to 250 of A-Z, a-z, 0-9, /, _ and -.');
  }
  return aliasName;
}

/** A message to sign or MAC, or a plaintext: 1..4096 bytes. */
export function requireMessage(message: unknown, field = 'message'): Uint8Array {
  if (!(message instanceof Uint8Array) || message.length === 0 || message.length > 4096) throw new ByokError('INVALID_PARAMETER', `${field} must be 1 to 4096 bytes.`);
  return message;
}

/** Bytes, or base64 as the wire APIs carry them; never empty. */
export function decodeBytes(value: Uint8Array | string, field: string): Uint8Array {
  const bytes = typeof value === 'string' ? fromBase64Strict(value) : value instanceof Uint8Array ? value : undefined;
  if (!bytes || bytes.length === 0) throw new ByokError('INVALID_PARAMETER', `${field} must be non-empty base64.`);
  return bytes;
}
