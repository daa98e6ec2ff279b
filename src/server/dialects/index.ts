/**
 * The wire dialects the service speaks, one module each. A request no route matched is answered
 * by the first dialect in this list that owns it (so a narrower owner goes before a broader one
 * on the same URL); the first dialect (Huawei's REST API) also answers what none owns.
 */
import { awsDialect, createAwsDialect } from './aws.js';
import type { AwsDialectOptions } from './aws-shapes.js';
import type { Dialect } from './dialect.js';
import { huaweiDialect } from './huawei.js';
import { tencentDialect } from './tencent.js';
import type { DialectName } from './wire-errors.js';

/** Every dialect, in the order that decides who answers a request no route matched. */
export const DIALECTS = [huaweiDialect, awsDialect, tencentDialect] as const satisfies readonly { readonly name: DialectName }[];

/** Every dialect, the AWS one with a configured account, region and clock (`byok serve`'s settings). */
export function serviceDialects(options: { readonly aws: AwsDialectOptions }): readonly Dialect[] {
  return DIALECTS.map((d) => (d.name === 'aws' ? createAwsDialect(options.aws) : d));
}

export type { DialectName } from './wire-errors.js';
export type { Dialect, Operation } from './dialect.js';
