/**
 * The wire dialects the service speaks, one module each. A request no route matched is answered
 * by the first dialect that owns it; the first dialect (Huawei's REST API) answers the rest.
 */
import { huaweiDialect } from './huawei.js';
import { tencentDialect } from './tencent.js';

export const DIALECTS = [huaweiDialect, tencentDialect] as const;

export type DialectName = (typeof DIALECTS)[number]['name'];
export type { Dialect, Operation } from './dialect.js';
