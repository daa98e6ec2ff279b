/**
 * The Tencent Cloud style action dialect: POST / with X-TC-Action, PascalCase bodies, responses
 * {"Response": {..., "RequestId"}} and errors {"Response": {"Error": {"Code", "Message"},
 * "RequestId"}} with the seeds' codes. Like the real API, errors travel with HTTP 200.
 * Authentication: the SDKs' TC3-HMAC-SHA256 signature, or a bearer token.
 */
import { authenticateTencent } from '../signing/authenticate.js';
import type { Dialect, RouteConstraint } from './dialect.js';
import { TENCENT_OPERATIONS } from './tencent-operations.js';

export const TC_ACTION_HEADER = 'x-tc-action';
export { TENCENT_KEY_STATE } from './tencent-operations.js';

/** Tencent Cloud KMS codes (the seeds' ImportKeyMaterial list). */
const TENCENT_ERROR_CODES = {
  DECRYPT_MATERIAL_FAILED: 'InvalidParameter.DecryptMaterialError',
  IMPORT_TOKEN_INVALID: 'InvalidParameter',
  IMPORT_TOKEN_EXPIRED: 'ResourceUnavailable.TokenExpired',
  IMPORT_TOKEN_EXHAUSTED: 'ResourceUnavailable.TokenExpired',
  KEY_MATERIAL_MISMATCH: 'InvalidParameterValue.MaterialNotMatch',
  KEY_STATE_UNSUPPORTED: 'ResourceUnavailable.CmkStateNotSupport',
  // A disabled CMK: Tencent's key-state code, as for every other state that refuses the call.
  KEY_DISABLED: 'ResourceUnavailable.CmkStateNotSupport',
  NOT_EXTERNAL_KEY: 'UnsupportedOperation.NotExternalCmk',
  KEY_NOT_FOUND: 'ResourceUnavailable.CmkNotFound',
  ALIAS_EXISTS: 'InvalidParameterValue.AliasAlreadyExists',
  INVALID_KEY_ID: 'InvalidParameterValue.InvalidKeyId',
  INVALID_PARAMETER: 'InvalidParameter',
  ALGORITHM_UNSUPPORTED: 'UnsupportedOperation',
  INVALID_KEY_USAGE: 'UnsupportedOperation',
  INVALID_PRIVATE_KEY: 'InvalidParameter',
  CIPHERTEXT_INVALID: 'InvalidParameter',
  // Not raised here: Tencent's actions have no verify call.
  SIGNATURE_VERIFY_FAILED: 'InvalidParameter',
  MAC_VERIFY_FAILED: 'InvalidParameter',
  UNAUTHORIZED: 'AuthFailure',
  // Tencent Cloud API 3.0's common AuthFailure.* codes for signed requests.
  SIGNATURE_MALFORMED: 'AuthFailure.InvalidAuthorization',
  SIGNATURE_EXPIRED: 'AuthFailure.SignatureExpire',
  ACCESS_KEY_UNKNOWN: 'AuthFailure.SecretIdNotFound',
  SIGNATURE_MISMATCH: 'AuthFailure.SignatureFailure',
  ACCESS_DENIED: 'AuthFailure.UnauthorizedOperation',
  // Tencent Cloud's common error code for a caller over an action's frequency limit.
  RATE_LIMITED: 'RequestLimitExceeded',
  BACKEND_UNAVAILABLE: 'UnsupportedOperation.ServiceTemporaryUnavailable',
  DEVICE_UNAVAILABLE: 'UnsupportedOperation.ServiceTemporaryUnavailable',
  DEVICE_REFUSED: 'InternalError',
  STORE_UNAVAILABLE: 'UnsupportedOperation.ServiceTemporaryUnavailable',
  DEPENDENCY_MISSING: 'InternalError',
  INTERNAL_ERROR: 'InternalError',
} as const;

/** Routes one POST / per action, chosen by the X-TC-Action header (a fastify route constraint). */
const tcActionConstraint: RouteConstraint = {
  name: 'tcAction',
  storage() {
    const handlers = new Map<string, unknown>();
    return { get: (v: string) => handlers.get(v) ?? null, set: (v: string, s: unknown) => void handlers.set(v, s) };
  },
  validate(value: unknown) {
    if (typeof value !== 'string') throw new Error('tcAction constraint must be a string');
  },
  deriveConstraint: (req) => req.headers[TC_ACTION_HEADER] as string | undefined,
  mustMatchWhenDerived: true,
};


const errorBody = (code: string, message: string, requestId: string) => ({ Response: { Error: { Code: code, Message: message }, RequestId: requestId } });

export const tencentDialect = {
  /** The dialect's name (metrics, audit, WIRE_ERRORS column). */
  name: 'tencent',
  /** This API's code for every engine error code. */
  errorCodes: TENCENT_ERROR_CODES,
  /** The operations this API serves. */
  operations: TENCENT_OPERATIONS,
  /** The routing constraint that picks an action by its header. */
  constraints: [tcActionConstraint],
  /** Where each operation is served. */
  route: (operation) => ({ url: '/', constraints: { [tcActionConstraint.name]: operation.name } }),
  /** The caller's tenant from this API's auth header. */
  authenticate: authenticateTencent,
  /** The Python SDK reads an error only from a body whose Content-Type is exactly this. */
  contentType: 'application/json',
  /** The body of a success. */
  success: (result, requestId) => ({ Response: { ...result, RequestId: requestId } }),
  // Errors travel with HTTP 200, as in the real API.
  /** The status and body of an error. */
  error: (failure, requestId) => ({ status: 200, body: errorBody(failure.code, failure.message, requestId) }),
  /** Whether an unmatched request is one of this API's: the action header (or a TC3 signature) marks it, on any URL. */
  owns: (req) => req.headers[TC_ACTION_HEADER] !== undefined || String(req.headers.authorization).startsWith('TC3-HMAC-SHA256 '),
  /** The answer to a request that names no operation; the caller's action is never echoed. */
  notFound: (req) => {
    const message = req.headers[TC_ACTION_HEADER] ? 'The action is not supported.' : 'The X-TC-Action header is required.';
    return { status: 200, body: errorBody('InvalidAction', message, req.id) };
  },
} as const satisfies Dialect<'tencent'>;
