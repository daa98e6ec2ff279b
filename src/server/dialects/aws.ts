/**
 * The AWS KMS dialect: the AWS JSON 1.1 protocol on POST / (`X-Amz-Target:
 * TrentService.<Operation>`, `Content-Type: application/x-amz-json-1.1`), requests signed with
 * AWS Signature Version 4, and errors as AWS sends them: `{"__type": "<Exception>", "message"}`
 * with HTTP 400 for the caller's faults and 5xx for ours, so any AWS SDK, the AWS CLI and
 * Terraform raise the exception by its name. The operations are in aws-operations.ts.
 */
import { systemClock } from '../../clock.js';
import type { ErrorCode } from '../../errors.js';
import { authenticateAws } from '../signing/authenticate.js';
import { awsOperations } from './aws-operations.js';
import { DEFAULT_AWS_SCOPE, type AwsDialectOptions } from './aws-shapes.js';
import type { Dialect, RouteConstraint } from './dialect.js';

export const AMZ_TARGET_HEADER = 'x-amz-target';
/** The target prefix of AWS KMS operations (its Smithy service name). */
export const AMZ_TARGET_PREFIX = 'TrentService.';
/** The media type of AWS JSON 1.1 requests and responses. */
export const AMZ_JSON_1_1 = 'application/x-amz-json-1.1';

/** The AWS KMS exception of every engine error code (the API reference's Errors of each operation). */
const AWS_ERROR_CODES = {
  // ImportKeyMaterial: "KMS could not decrypt the encrypted (wrapped) key material".
  DECRYPT_MATERIAL_FAILED: 'InvalidCiphertextException',
  IMPORT_TOKEN_INVALID: 'InvalidImportTokenException',
  IMPORT_TOKEN_EXPIRED: 'ExpiredImportTokenException',
  // Spent by failed attempts: like an expired token, the caller needs new parameters.
  IMPORT_TOKEN_EXHAUSTED: 'ExpiredImportTokenException',
  KEY_MATERIAL_MISMATCH: 'IncorrectKeyMaterialException',
  KEY_STATE_UNSUPPORTED: 'KMSInvalidStateException',
  // Encrypt, Sign, GenerateDataKey, … of a disabled key: "the specified KMS key is not enabled".
  KEY_DISABLED: 'DisabledException',
  NOT_EXTERNAL_KEY: 'UnsupportedOperationException',
  KEY_NOT_FOUND: 'NotFoundException',
  ALIAS_EXISTS: 'AlreadyExistsException',
  // AWS answers a malformed key ID with NotFoundException ("Invalid keyId").
  INVALID_KEY_ID: 'NotFoundException',
  INVALID_PARAMETER: 'ValidationException',
  ALGORITHM_UNSUPPORTED: 'UnsupportedOperationException',
  INVALID_KEY_USAGE: 'InvalidKeyUsageException',
  INVALID_PRIVATE_KEY: 'IncorrectKeyMaterialException',
  CIPHERTEXT_INVALID: 'InvalidCiphertextException',
  SIGNATURE_VERIFY_FAILED: 'KMSInvalidSignatureException',
  MAC_VERIFY_FAILED: 'KMSInvalidMacException',
  // AWS's common errors: no Authorization header at all; an unknown access key ID; a signature
  // malformed, wrong or out of the skew window (the SDKs correct their clock on the last one).
  UNAUTHORIZED: 'MissingAuthenticationTokenException',
  SIGNATURE_MALFORMED: 'IncompleteSignatureException',
  SIGNATURE_EXPIRED: 'InvalidSignatureException',
  ACCESS_KEY_UNKNOWN: 'UnrecognizedClientException',
  SIGNATURE_MISMATCH: 'InvalidSignatureException',
  ACCESS_DENIED: 'AccessDeniedException',
  RATE_LIMITED: 'ThrottlingException',
  BACKEND_UNAVAILABLE: 'DependencyTimeoutException',
  // A PKCS#11 device fault recovery did not mend (retry later), and a device refusal.
  DEVICE_UNAVAILABLE: 'DependencyTimeoutException',
  DEVICE_REFUSED: 'KMSInternalException',
  STORE_UNAVAILABLE: 'DependencyTimeoutException',
  DEPENDENCY_MISSING: 'KMSInternalException',
  INTERNAL_ERROR: 'KMSInternalException',
} as const satisfies Record<ErrorCode, string>;

/** The value of the constraint on AWS's one route: every `TrentService.*` target reaches it. */
const AMZ_SERVICE = 'TrentService';

/** Routes `POST /` with an X-Amz-Target of AWS KMS to the dialect's one route (a fastify route constraint). */
const amzTargetConstraint: RouteConstraint = {
  name: 'amzTarget',
  storage() {
    const handlers = new Map<string, unknown>();
    return { get: (v: string) => handlers.get(v) ?? null, set: (v: string, s: unknown) => void handlers.set(v, s) };
  },
  validate(value: unknown) {
    if (typeof value !== 'string') throw new Error('amzTarget constraint must be a string');
  },
  // Another service's target matches no route: the dialect's notFound answers it.
  deriveConstraint: (req) => {
    const target = req.headers[AMZ_TARGET_HEADER];
    if (typeof target !== 'string') return undefined;
    return target.startsWith(AMZ_TARGET_PREFIX) ? AMZ_SERVICE : target;
  },
  mustMatchWhenDerived: true,
};

const AWS_ROUTE = { url: '/', constraints: { [amzTargetConstraint.name]: AMZ_SERVICE } } as const;

/** AWS JSON 1.1 error bodies: `__type` names the exception (the SDKs also read x-amzn-ErrorType). */
const errorBody = (type: string, message: string) => ({ __type: type, message });

/** The AWS dialect for an account and region (its ARNs) and a clock (ValidTo's limits). */
export function createAwsDialect(options: AwsDialectOptions) {
  return {
    /** The dialect's name (metrics, audit, WIRE_ERRORS column). */
    name: 'aws',
    /** This API's exception name for every engine error code. */
    errorCodes: AWS_ERROR_CODES,
    /** The operations this API serves. */
    operations: awsOperations(options),
    /** The routing constraint that picks an operation by its X-Amz-Target header. */
    constraints: [amzTargetConstraint],
    /** AWS JSON 1.1 bodies (and plain JSON, which curl users send). */
    mediaTypes: [AMZ_JSON_1_1, 'application/json'],
    /** AWS JSON 1.1 answers. */
    contentType: AMZ_JSON_1_1,
    /** AWS's request ID header: the SDKs report it as `$metadata.requestId` (and in their exceptions). */
    requestIdHeader: 'x-amzn-RequestId',
    /** Where each operation is served: all on the one route. */
    route: () => AWS_ROUTE,
    /** Every operation on the one route. */
    dispatch: {
      /** `POST /` with an AWS KMS X-Amz-Target. */
      route: AWS_ROUTE,
      /** The operation an X-Amz-Target names (`TrentService.<Operation>`). */
      operationOf: (req) => (req.headers[AMZ_TARGET_HEADER] as string).slice(AMZ_TARGET_PREFIX.length),
    },
    /** The caller's tenant: the access key that signed the request (SigV4, service kms). */
    authenticate: authenticateAws,
    /** The body of a success: the operation's output shape itself. */
    success: (result) => result,
    // AWS answers the caller's faults with 400 whatever the exception (NotFoundException too); ours keep their 5xx.
    /** The status and body of an error. */
    error: (failure) => ({ status: failure.status < 500 ? 400 : failure.status, body: errorBody(failure.code, failure.message) }),
    /** Whether an unmatched request is one of this API's: the X-Amz-Target header marks it. */
    owns: (req) => req.headers[AMZ_TARGET_HEADER] !== undefined,
    /** The answer to a request that names no operation we serve; the caller's target is never echoed. */
    notFound: () => ({ status: 400, body: errorBody('UnknownOperationException', 'The operation is not supported.') }),
  } as const satisfies Dialect<'aws'>;
}

/** The AWS dialect with the default scope (account 111122223333, us-east-1) and the system clock. */
export const awsDialect = createAwsDialect({ ...DEFAULT_AWS_SCOPE, clock: systemClock });
