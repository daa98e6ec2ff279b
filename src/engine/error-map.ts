/**
 * The one table from engine error codes to the wire APIs: Tencent Cloud KMS codes (the seeds'
 * ImportKeyMaterial list), Huawei-style KMS.xxxx codes and HTTP status. The service uses only this.
 */
import type { ErrorCode } from '../errors.js';

export interface WireError {
  readonly tencent: string;
  readonly huawei: string;
  readonly http: 400 | 401 | 403 | 404 | 409 | 500 | 503;
}

export const WIRE_ERRORS: Readonly<Record<ErrorCode, WireError>> = {
  DECRYPT_MATERIAL_FAILED: { tencent: 'InvalidParameter.DecryptMaterialError', huawei: 'KMS.2310', http: 400 },
  IMPORT_TOKEN_INVALID: { tencent: 'InvalidParameter', huawei: 'KMS.2311', http: 400 },
  IMPORT_TOKEN_EXPIRED: { tencent: 'ResourceUnavailable.TokenExpired', huawei: 'KMS.2312', http: 400 },
  IMPORT_TOKEN_EXHAUSTED: { tencent: 'ResourceUnavailable.TokenExpired', huawei: 'KMS.2313', http: 400 },
  KEY_MATERIAL_MISMATCH: { tencent: 'InvalidParameterValue.MaterialNotMatch', huawei: 'KMS.2314', http: 400 },
  KEY_STATE_UNSUPPORTED: { tencent: 'ResourceUnavailable.CmkStateNotSupport', huawei: 'KMS.2315', http: 400 },
  NOT_EXTERNAL_KEY: { tencent: 'UnsupportedOperation.NotExternalCmk', huawei: 'KMS.2316', http: 400 },
  KEY_NOT_FOUND: { tencent: 'ResourceUnavailable.CmkNotFound', huawei: 'KMS.2301', http: 404 },
  INVALID_KEY_ID: { tencent: 'InvalidParameterValue.InvalidKeyId', huawei: 'KMS.2302', http: 400 },
  INVALID_PARAMETER: { tencent: 'InvalidParameter', huawei: 'KMS.2300', http: 400 },
  ALGORITHM_UNSUPPORTED: { tencent: 'UnsupportedOperation', huawei: 'KMS.2317', http: 400 },
  INVALID_KEY_USAGE: { tencent: 'UnsupportedOperation', huawei: 'KMS.2320', http: 400 },
  INVALID_PRIVATE_KEY: { tencent: 'InvalidParameter', huawei: 'KMS.2318', http: 400 },
  CIPHERTEXT_INVALID: { tencent: 'InvalidParameter', huawei: 'KMS.2319', http: 400 },
  UNAUTHORIZED: { tencent: 'AuthFailure', huawei: 'KMS.0401', http: 401 },
  BACKEND_UNAVAILABLE: { tencent: 'UnsupportedOperation.ServiceTemporaryUnavailable', huawei: 'KMS.0503', http: 503 },
  STORE_UNAVAILABLE: { tencent: 'UnsupportedOperation.ServiceTemporaryUnavailable', huawei: 'KMS.0503', http: 503 },
  DEPENDENCY_MISSING: { tencent: 'InternalError', huawei: 'KMS.0500', http: 500 },
  INTERNAL_ERROR: { tencent: 'InternalError', huawei: 'KMS.0500', http: 500 },
};
