/**
 * The Huawei Cloud style REST dialect: POST /v1.0/{project_id}/kms/<action>, X-Auth-Token or the
 * SDKs' AK/SK signature (SDK-HMAC-SHA256),
 * snake_case bodies, errors {"error":{"error_code":"KMS.xxxx","error_msg":"..."}} with the code's
 * HTTP status. Field rules follow the seeds (key ID regex, token pattern, base64 material,
 * wrapping algorithm enumeration, 36-byte sequence).
 */
import { authenticateHuawei } from '../signing/authenticate.js';
import type { Dialect } from './dialect.js';
import { HUAWEI_OPERATIONS } from './huawei-operations.js';
import { objectSchema } from './schemas.js';

export const HUAWEI_AUTH_HEADER = 'x-auth-token';
export { HUAWEI_KEY_STATE } from './huawei-operations.js';

/** Huawei-style KMS.xxxx codes (23xx: the import API; 0xxx: the gateway), and the gateway's APIG.0308. */
const HUAWEI_ERROR_CODES = {
  DECRYPT_MATERIAL_FAILED: 'KMS.2310',
  IMPORT_TOKEN_INVALID: 'KMS.2311',
  IMPORT_TOKEN_EXPIRED: 'KMS.2312',
  IMPORT_TOKEN_EXHAUSTED: 'KMS.2313',
  KEY_MATERIAL_MISMATCH: 'KMS.2314',
  KEY_STATE_UNSUPPORTED: 'KMS.2315',
  // Huawei documents no code of its own for a disabled key: its key-state code.
  KEY_DISABLED: 'KMS.2315',
  NOT_EXTERNAL_KEY: 'KMS.2316',
  KEY_NOT_FOUND: 'KMS.2301',
  ALIAS_EXISTS: 'KMS.2321',
  INVALID_KEY_ID: 'KMS.2302',
  INVALID_PARAMETER: 'KMS.2300',
  ALGORITHM_UNSUPPORTED: 'KMS.2317',
  INVALID_KEY_USAGE: 'KMS.2320',
  INVALID_PRIVATE_KEY: 'KMS.2318',
  CIPHERTEXT_INVALID: 'KMS.2319',
  // Huawei's verify and verify-mac answer a failed check as signature_valid / mac_valid "false".
  SIGNATURE_VERIFY_FAILED: 'KMS.2300',
  MAC_VERIFY_FAILED: 'KMS.2300',
  UNAUTHORIZED: 'KMS.0401',
  // Huawei Cloud's API gateway answers every failed AK/SK check with APIG.0301 ("Incorrect IAM
  // authentication information: …") and a caller it does not authorize with APIG.0302.
  SIGNATURE_MALFORMED: 'APIG.0301',
  SIGNATURE_EXPIRED: 'APIG.0301',
  ACCESS_KEY_UNKNOWN: 'APIG.0301',
  SIGNATURE_MISMATCH: 'APIG.0301',
  ACCESS_DENIED: 'APIG.0302',
  // Huawei Cloud's API gateway answers a throttled call with APIG.0308 ("The throttling threshold
  // has been reached"): https://support.huaweicloud.com/intl/en-us/ocr_faq/ocr_01_0041.html
  RATE_LIMITED: 'APIG.0308',
  BACKEND_UNAVAILABLE: 'KMS.0503',
  DEVICE_UNAVAILABLE: 'KMS.0503',
  DEVICE_REFUSED: 'KMS.0500',
  STORE_UNAVAILABLE: 'KMS.0503',
  DEPENDENCY_MISSING: 'KMS.0500',
  INTERNAL_ERROR: 'KMS.0500',
} as const;

const PARAMS_SCHEMA = objectSchema({ project_id: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,64}$' } }, ['project_id']);

export const huaweiDialect = {
  /** The dialect's name (metrics, audit, WIRE_ERRORS column). */
  name: 'huawei',
  /** This API's code for every engine error code. */
  errorCodes: HUAWEI_ERROR_CODES,
  /** The operations this API serves. */
  operations: HUAWEI_OPERATIONS,
  /** Where each operation is served. */
  route: (operation) => ({ url: `/v1.0/:project_id/kms/${operation.name}`, params: PARAMS_SCHEMA }),
  /** The caller's tenant from this API's auth header. */
  authenticate: authenticateHuawei,
  /** The body of a success. */
  success: (result) => result,
  /**
   * The status and body of an error: KMS's own nested under "error"; the API gateway's (APIG.*:
   * authentication, throttling) flat with a request_id, as the gateway sends them (and the Node
   * core SDK reads a code only from the flat form).
   */
  error: (failure, requestId) => ({
    status: failure.status,
    body: failure.code.startsWith('APIG.') ? { error_code: failure.code, error_msg: failure.message, request_id: requestId }
      : { error: { error_code: failure.code, error_msg: failure.message } },
  }),
  // First in DIALECTS: it also answers whatever no dialect owns, with its REST errors.
  /** Whether an unmatched request is one of this API's. */
  owns: (req) => req.url.startsWith('/v1.0/'),
  /** The answer to a request that names no operation. */
  notFound: () => ({ status: 404, body: { error: { error_code: 'KMS.0404', error_msg: 'Not found.' } } }),
} as const satisfies Dialect<'huawei'>;
