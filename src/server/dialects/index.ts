/**
 * The wire dialects the service speaks, one module each. A request no route matched is answered
 * by the first dialect that owns it; the first dialect (Huawei's REST API) answers the rest.
 */
import { huaweiDialect } from './huawei.js';
import { tencentDialect } from './tencent.js';

/** Every dialect, in the order that decides who answers a request no route matched. */
export const DIALECTS = [huaweiDialect, tencentDialect] as const;

/** `huawei`, `tencent`: a dialect's metric label and WIRE_ERRORS column. */
export type DialectName = (typeof DIALECTS)[number]['name'];
export type { Dialect, Operation } from './dialect.js';
