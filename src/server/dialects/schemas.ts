/**
 * Request validation shared by both dialects (JSON Schema, compiled by fastify's ajv with
 * coercion and additional-property removal off: unknown fields and wrong types are 400s).
 * Field rules follow the seeds.
 */
import { ByokError } from '../../errors.js';

/**
 * Shape only: the engine checks the seeds' key ID pattern
 * (^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$) so that a malformed ID gets
 * its own code (KMS.2302 / InvalidParameterValue.InvalidKeyId), not the generic one.
 */
export const KEY_ID_SCHEMA = { type: 'string', maxLength: 64 } as const;

/**
 * Canonical padded base64. The seeds' `^[0-9a-zA-Z+/=]{344,360}$` for encrypted_key_material
 * fits RSA-2048 only; RSA-4096 (684 chars) and SM2 (172 chars for 32 bytes) must pass too.
 */
export const BASE64_SCHEMA = {
  type: 'string', minLength: 4, maxLength: 8192, pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$',
} as const;

/** The seeds' import_token (and encrypted_privatekey) rule. */
export const TOKEN_SCHEMA = { type: 'string', pattern: '^[0-9a-zA-Z+/=]{200,6144}$' } as const;

/** Huawei's names and Tencent's SM2PKE for SM2_ENCRYPT, accepted by both dialects. */
export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5', 'SM2_ENCRYPT', 'SM2PKE', 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1'] as const;
export const WRAPPING_ALGORITHM_SCHEMA = { type: 'string', enum: [...WRAPPING_ALGORITHMS] } as const;
export const WRAPPING_KEY_SPEC_SCHEMA = { type: 'string', enum: ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] } as const;

/** Huawei `sequence`: a 36-byte request serial number (a UUID in the seeds' example). */
export const SEQUENCE_SCHEMA = { type: 'string', minLength: 36, maxLength: 36 } as const;

/** Seconds since the epoch (the engine checks 0 or now < t <= 2147443200). */
export const EPOCH_SECONDS_SCHEMA = { type: 'integer', minimum: 0, maximum: 4294967295 } as const;

/**
 * Tencent's ValidTo: an Integer, but the seed's own example sends "0", so a decimal string is
 * accepted too (and converted in the handler, not by ajv coercion).
 */
export const TENCENT_VALID_TO_SCHEMA = {
  anyOf: [EPOCH_SECONDS_SCHEMA, { type: 'string', pattern: '^[0-9]{1,10}$' }],
} as const;

/**
 * An integer, or the same as a decimal string (the Huawei SDK's models declare its numbers as
 * strings: `limit`, `pending_days`, `datakey_length`, …). The handler converts with `toInteger`.
 */
export function integerLike(minimum: number, maximum: number) {
  return { anyOf: [{ type: 'integer', minimum, maximum }, { type: 'string', pattern: '^[0-9]{1,10}$' }] } as const;
}

/** An integerLike value as a number, checked against the same bounds (a string escapes the schema's). */
export function toInteger(value: number | string, minimum: number, maximum: number, field: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < minimum || n > maximum) throw new ByokError('INVALID_PARAMETER', `${field} must be an integer from ${minimum} to ${maximum}.`);
  return n;
}

/**
 * A field the SDKs' models declare that a local service has no use for (tags, HSM cluster IDs,
 * keystore IDs, member accounts): accepted with its shape checked and otherwise ignored; the
 * README's operations tables list it, with why, from this description.
 */
export function ignored(schema: object, why: string) {
  return { ...schema, description: `ignored: ${why}` } as const;
}

/** A short free-form string (IDs the service does not interpret). */
export const SHORT_STRING_SCHEMA = { type: 'string', maxLength: 256 } as const;

/** An object body with exactly these properties. */
export function objectSchema(properties: Record<string, unknown>, required: readonly string[]) {
  return { type: 'object', additionalProperties: false, required: [...required], properties } as const;
}
