/** Shared by both dialects: error mapping through the one table, and state names per dialect. */
import { WIRE_ERRORS } from '../engine/error-map.js';
import type { KeyState } from '../engine/types.js';
import { ByokError, isByokError } from '../errors.js';

export interface MappedError {
  readonly code: ByokError['code'];
  readonly message: string;
  readonly http: number;
  readonly tencent: string;
  readonly huawei: string;
}

/** Any thrown value → a wire error. Non-ByokErrors become a generic 500: no message, no stack. */
export function mapError(e: unknown): MappedError {
  const err = isByokError(e) ? e : new ByokError('INTERNAL_ERROR');
  const wire = WIRE_ERRORS[err.code];
  return { code: err.code, message: err.message, http: wire.http, tencent: wire.tencent, huawei: wire.huawei };
}

/** Huawei key_state codes: 2 enabled, 3 disabled, 4 pending deletion, 5 pending import. */
export const HUAWEI_KEY_STATE: Readonly<Record<KeyState, string>> = {
  Enabled: '2', Disabled: '3', PendingDeletion: '4', PendingImport: '5',
};

/** Tencent KeyState names. */
export const TENCENT_KEY_STATE: Readonly<Record<KeyState, string>> = {
  Enabled: 'Enabled', Disabled: 'Disabled', PendingDeletion: 'PendingDelete', PendingImport: 'PendingImport',
};

/** Shape only: the engine checks the key ID pattern so the seeds' InvalidKeyId code is returned. */
export const KEY_ID_SCHEMA = { type: 'string', maxLength: 64 } as const;
export const BASE64_SCHEMA = { type: 'string', minLength: 4, maxLength: 8192, pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$' } as const;
export const TOKEN_SCHEMA = { type: 'string', pattern: '^[0-9a-zA-Z+/=]{200,6144}$' } as const;
export const WRAPPING_ALGORITHM_SCHEMA = { type: 'string', enum: ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5', 'SM2_ENCRYPT', 'SM2PKE'] } as const;
export const WRAPPING_KEY_SPEC_SCHEMA = { type: 'string', enum: ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] } as const;
