/**
 * The AWS dialect's tables against AWS's own: every exception name is one the AWS KMS model
 * (@aws-sdk/client-kms) declares or one of AWS's common errors, with HTTP 400 for the caller's
 * faults; and key identifiers are read as AWS reads them.
 */
import * as kms from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../src/errors.js';
import { awsDialect } from '../src/server/dialects/aws.js';
import { DEFAULT_AWS_SCOPE, engineKeyId, keyArn } from '../src/server/dialects/aws-shapes.js';

/** AWS's common errors (every service's), which the KMS model does not list. */
const COMMON_ERRORS = [
  'AccessDeniedException', 'IncompleteSignatureException', 'InvalidSignatureException', 'MissingAuthenticationTokenException',
  'ThrottlingException', 'UnrecognizedClientException', 'ValidationException',
];

describe('the AWS dialect\'s exceptions', () => {
  it('every engine code is an exception of the KMS model or a common AWS error', () => {
    for (const [code, name] of Object.entries(awsDialect.errorCodes)) {
      const declared = (kms as Record<string, unknown>)[name];
      const inModel = typeof declared === 'function' && (declared as { prototype: unknown }).prototype instanceof kms.KMSServiceException;
      expect(inModel || COMMON_ERRORS.includes(name), `${code}: ${name}`).toBe(true);
    }
  });

  it('client faults answer 400 (as AWS does, NotFoundException too), server faults their 5xx; the body names the exception in __type', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const reply = awsDialect.error({ code: awsDialect.errorCodes[code], message: ERROR_CODES[code].message, status: ERROR_CODES[code].fault === 'client' ? 404 : 503 }, 'r');
      expect(reply.status, code).toBe(ERROR_CODES[code].fault === 'client' ? 400 : 503);
      expect(reply.body).toEqual({ __type: awsDialect.errorCodes[code], message: ERROR_CODES[code].message });
    }
  });
});

describe('AWS key identifiers', () => {
  const id = '1234abcd-12ab-34cd-56ef-1234567890ab';
  const scope = DEFAULT_AWS_SCOPE;

  it('a key ID, its ARN, an alias name and an alias ARN', () => {
    expect(engineKeyId(scope, id, { aliases: false })).toBe(id);
    expect(engineKeyId(scope, keyArn(scope, id), { aliases: false })).toBe(id);
    expect(keyArn(scope, id)).toBe(`arn:aws:kms:us-east-1:111122223333:key/${id}`);
    expect(engineKeyId(scope, 'alias/my-key', { aliases: true })).toBe('alias/my-key');
    expect(engineKeyId(scope, 'arn:aws:kms:us-east-1:111122223333:alias/my-key', { aliases: true })).toBe('alias/my-key');
  });

  it('an ARN of another account or region names no key; an alias where AWS takes only a key ID or ARN is refused', () => {
    const refused = (value: string, aliases: boolean) => {
      try {
        engineKeyId(scope, value, { aliases });
      } catch (e) {
        return (e as { code: string }).code;
      }
      throw new Error('accepted');
    };
    expect(refused(`arn:aws:kms:us-east-1:444455556666:key/${id}`, true)).toBe('KEY_NOT_FOUND');
    expect(refused(`arn:aws:kms:eu-west-1:111122223333:key/${id}`, true)).toBe('KEY_NOT_FOUND');
    expect(refused('alias/my-key', false)).toBe('INVALID_KEY_ID');
    expect(refused('arn:aws:kms:us-east-1:111122223333:alias/my-key', false)).toBe('INVALID_KEY_ID');
  });
});
