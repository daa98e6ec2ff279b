/**
 * One error class with stable codes (modelled on panva/jose's JOSEError).
 *
 * Messages are fixed per code where the code is security-relevant: an unwrap failure always
 * carries the same message, so neither the text nor the code tells a caller *why* it failed
 * (no padding oracle). Never pass a raw library message through: it may carry key bytes.
 */

/** Whose fault an error is: the caller's request (client) or this side (server). */
export type Fault = 'client' | 'server';

/** Every error code, with its fault and its fixed message (the wire codes are in WIRE_ERRORS). */
export const ERROR_CODES = {
  /** Every unwrap failure: bad length, padding, point, tag, DER, material length. */
  DECRYPT_MATERIAL_FAILED: { fault: 'client', message: 'The encrypted key material could not be decrypted.' },
  IMPORT_TOKEN_INVALID: { fault: 'client', message: 'The import token is invalid.' },
  IMPORT_TOKEN_EXPIRED: { fault: 'client', message: 'The import token has expired.' },
  IMPORT_TOKEN_EXHAUSTED: { fault: 'client', message: 'The import token has reached its limit of failed imports.' },
  KEY_MATERIAL_MISMATCH: { fault: 'client', message: 'The key material is different from the one previously imported.' },
  KEY_STATE_UNSUPPORTED: { fault: 'client', message: 'This operation cannot be performed in the current key state.' },
  /** A use (encrypt, sign, a data key, a MAC, …) of a disabled key: AWS names it apart (DisabledException). */
  KEY_DISABLED: { fault: 'client', message: 'The key is disabled.' },
  NOT_EXTERNAL_KEY: { fault: 'client', message: 'Only keys of origin EXTERNAL accept imported key material.' },
  KEY_NOT_FOUND: { fault: 'client', message: 'The key does not exist.' },
  /** createAlias: the tenant already has an alias of that name. */
  ALIAS_EXISTS: { fault: 'client', message: 'The alias already exists.' },
  INVALID_KEY_ID: { fault: 'client', message: 'The key ID is invalid.' },
  INVALID_PARAMETER: { fault: 'client', message: 'A parameter is invalid.' },
  ALGORITHM_UNSUPPORTED: { fault: 'client', message: 'The algorithm or key spec is not supported by this backend.' },
  INVALID_KEY_USAGE: { fault: 'client', message: 'The key\'s usage does not allow this operation.' },
  INVALID_PRIVATE_KEY: { fault: 'client', message: 'The private key is not a valid PKCS#8 key of the declared spec.' },
  CIPHERTEXT_INVALID: { fault: 'client', message: 'The ciphertext could not be decrypted.' },
  /** A dialect whose API answers a failed verification with an error (AWS Verify), not a false. */
  SIGNATURE_VERIFY_FAILED: { fault: 'client', message: 'The signature is not valid.' },
  /** A dialect whose API answers a failed verification with an error (AWS VerifyMac), not a false. */
  MAC_VERIFY_FAILED: { fault: 'client', message: 'The MAC is not valid.' },
  UNAUTHORIZED: { fault: 'client', message: 'Authentication is missing or invalid.' },
  /** A signed request whose Authorization header, date or signed headers are missing or malformed. */
  SIGNATURE_MALFORMED: { fault: 'client', message: 'The request signature is incomplete or malformed.' },
  /** A signed request whose time is outside the allowed clock skew. */
  SIGNATURE_EXPIRED: { fault: 'client', message: 'The request signature has expired.' },
  /** A signed request with an access key ID that is not configured. */
  ACCESS_KEY_UNKNOWN: { fault: 'client', message: 'The access key ID does not exist.' },
  /** A signed request whose signature is not the one its access key's secret gives. */
  SIGNATURE_MISMATCH: { fault: 'client', message: 'The request signature does not match the one calculated.' },
  /** An authenticated caller asking for what its credential does not cover (another project). */
  ACCESS_DENIED: { fault: 'client', message: 'The credential is not allowed to access this resource.' },
  /** The tenant's per-second limit on an expensive call (get-parameters-for-import, import) is reached. */
  RATE_LIMITED: { fault: 'client', message: 'Too many requests; retry later.' },
  BACKEND_UNAVAILABLE: { fault: 'server', message: 'The crypto backend is unavailable.' },
  /** A PKCS#11 device fault (session or login lost, device reset) that recovery and one retry did not mend. */
  DEVICE_UNAVAILABLE: { fault: 'server', message: 'The PKCS#11 device is unavailable; retry later.' },
  /** The PKCS#11 device refused an operation (a template, a mechanism): the server's fault, never the caller's key. */
  DEVICE_REFUSED: { fault: 'server', message: 'The PKCS#11 device refused the operation.' },
  STORE_UNAVAILABLE: { fault: 'server', message: 'The key store is unavailable.' },
  DEPENDENCY_MISSING: { fault: 'server', message: 'An optional package this feature needs is not installed.' },
  INTERNAL_ERROR: { fault: 'server', message: 'Internal error.' },
} as const satisfies Record<string, { fault: Fault; message: string }>;

/** A stable error code: one of ERROR_CODES. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes whose message must never vary: a detail would be an oracle. */
const FIXED_MESSAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'DECRYPT_MATERIAL_FAILED',
  'IMPORT_TOKEN_INVALID',
  'CIPHERTEXT_INVALID',
]);

/** The one error class: a stable `code`, its `fault`, a message (fixed for the unwrap codes) and, where it may, a `cause`. */
export class ByokError extends Error {
  /** The stable code: match on this, never on the message. */
  readonly code: ErrorCode;
  /** The code's fault: client or server. */
  readonly fault: Fault;

  /**
   * @param detail a human-readable detail for codes that may carry one (never key bytes);
   *   ignored for codes whose message is fixed.
   * @param options `cause`: the underlying error, for logs and debuggers. Never given for the
   *   fixed-message codes: a cause would say which check failed.
   */
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const base = ERROR_CODES[code];
    const fixed = FIXED_MESSAGE_CODES.has(code);
    const message = detail !== undefined && !fixed ? detail : base.message;
    super(message, options?.cause !== undefined && !fixed ? { cause: options.cause } : undefined);
    this.name = 'ByokError';
    this.code = code;
    this.fault = base.fault;
  }
}

/** Whether `e` is a ByokError. */
export function isByokError(e: unknown): e is ByokError {
  return e instanceof ByokError;
}

/**
 * The one way to fail an unwrap. Built without the caller's stack: a fresh error whose stack
 * points here, so no frame names the branch that failed.
 */
export function decryptMaterialFailed(): ByokError {
  return new ByokError('DECRYPT_MATERIAL_FAILED');
}
