/** Shared by both dialects: error mapping through the one table, and state names per dialect. */
import { WIRE_ERRORS } from '../engine/error-map.js';
import type { KeyState } from '../engine/types.js';
import { ByokError, isByokError } from '../errors.js';

export interface MappedError {
  readonly code: ByokError['code'];
  readonly fault: ByokError['fault'];
  readonly message: string;
  readonly http: number;
  readonly tencent: string;
  readonly huawei: string;
}

/** Any thrown value → a wire error. Non-ByokErrors become a generic 500: no message, no stack. */
export function mapError(e: unknown): MappedError {
  const err = isByokError(e) ? e : new ByokError('INTERNAL_ERROR');
  const wire = WIRE_ERRORS[err.code];
  return { code: err.code, fault: err.fault, message: err.message, http: wire.http, tencent: wire.tencent, huawei: wire.huawei };
}

/** Huawei key_state codes: 2 enabled, 3 disabled, 4 pending deletion, 5 pending import. */
export const HUAWEI_KEY_STATE: Readonly<Record<KeyState, string>> = {
  Enabled: '2', Disabled: '3', PendingDeletion: '4', PendingImport: '5',
};

/** Tencent KeyState names. */
export const TENCENT_KEY_STATE: Readonly<Record<KeyState, string>> = {
  Enabled: 'Enabled', Disabled: 'Disabled', PendingDeletion: 'PendingDelete', PendingImport: 'PendingImport',
};
