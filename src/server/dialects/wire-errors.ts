/**
 * The one table from engine error codes to the wire: the HTTP status a REST dialect answers with,
 * and each dialect's own code (declared in its module, e.g. Huawei `KMS.2310`, Tencent
 * `InvalidParameter.DecryptMaterialError`). Data only: importing it loads no HTTP server.
 */
import { ERROR_CODES, type ErrorCode } from '../../errors.js';
import { DIALECTS } from './index.js';

/**
 * The dialects' names: each one's metric label and WIRE_ERRORS column. Declared here as a plain
 * union (`DIALECTS` is checked against it) so that the public entry's types reach no HTTP
 * framework's declarations: an engine-only install type-checks without fastify.
 */
export type DialectName = 'huawei' | 'tencent' | 'aws';

/** The HTTP statuses the service answers errors with. */
export type HttpStatus = 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503;

/** The REST status of each code (Huawei answers with it; Tencent always with 200). */
export const HTTP_STATUS: Readonly<Record<ErrorCode, HttpStatus>> = {
  DECRYPT_MATERIAL_FAILED: 400,
  IMPORT_TOKEN_INVALID: 400,
  IMPORT_TOKEN_EXPIRED: 400,
  IMPORT_TOKEN_EXHAUSTED: 400,
  KEY_MATERIAL_MISMATCH: 400,
  KEY_STATE_UNSUPPORTED: 400,
  KEY_DISABLED: 400,
  NOT_EXTERNAL_KEY: 400,
  KEY_NOT_FOUND: 404,
  ALIAS_EXISTS: 409,
  INVALID_KEY_ID: 400,
  INVALID_PARAMETER: 400,
  ALGORITHM_UNSUPPORTED: 400,
  INVALID_KEY_USAGE: 400,
  INVALID_PRIVATE_KEY: 400,
  CIPHERTEXT_INVALID: 400,
  SIGNATURE_VERIFY_FAILED: 400,
  MAC_VERIFY_FAILED: 400,
  UNAUTHORIZED: 401,
  SIGNATURE_MALFORMED: 401,
  SIGNATURE_EXPIRED: 401,
  ACCESS_KEY_UNKNOWN: 401,
  SIGNATURE_MISMATCH: 401,
  ACCESS_DENIED: 403,
  RATE_LIMITED: 429,
  BACKEND_UNAVAILABLE: 503,
  DEVICE_UNAVAILABLE: 503,
  DEVICE_REFUSED: 500,
  STORE_UNAVAILABLE: 503,
  DEPENDENCY_MISSING: 500,
  INTERNAL_ERROR: 500,
};

/** One row: the HTTP status and every dialect's code (`huawei`, `tencent`, …). */
export type WireError = { readonly http: HttpStatus } & { readonly [D in DialectName]: string };

/** Every engine error code on the wire: `WIRE_ERRORS.KEY_MATERIAL_MISMATCH.huawei` is `KMS.2314`. */
export const WIRE_ERRORS: Readonly<Record<ErrorCode, WireError>> = Object.fromEntries(
  (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => [
    code,
    { http: HTTP_STATUS[code], ...Object.fromEntries(DIALECTS.map((d) => [d.name, d.errorCodes[code]])) } as WireError,
  ]),
) as Record<ErrorCode, WireError>;
