/**
 * The AWS KMS dialect's shapes: key identifiers as AWS accepts them (key ID, key ARN, alias
 * name, alias ARN), the ARNs this service answers with, AWS's names for our key specs, and
 * KeyMetadata as the AWS KMS API reference declares it (timestamps are epoch seconds, blobs
 * base64: the AWS JSON 1.1 protocol).
 */
import { MAC_ALGORITHM_OF, MATERIAL_SPECS, signingAlgorithmsFor, type HmacSpec, type MaterialSpec } from '../../algorithms/specs.js';
import type { Clock } from '../../clock.js';
import type { KeyMetadata } from '../../engine/types.js';
import { ByokError } from '../../errors.js';

/** Where this service pretends to be: the account and region of the ARNs it answers with and accepts. */
export interface AwsScope {
  /** 12 digits. */
  readonly accountId: string;
  /** e.g. us-east-1. */
  readonly region: string;
}

/** AWS's documentation account and the first region: what the SDKs' examples use. */
export const DEFAULT_AWS_SCOPE: AwsScope = { accountId: '111122223333', region: 'us-east-1' };

/** What the AWS dialect is configured with: its ARN scope, and the clock ValidTo is checked against. */
export interface AwsDialectOptions extends AwsScope {
  readonly clock: Clock;
}

export const AWS_ACCOUNT_PATTERN = /^[0-9]{12}$/;
export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/;

const ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):(key\/.+|alias\/.+)$/;

/** An alias name as AWS allows it (CreateAlias): `alias/` then letters, digits, `/ _ -`, at most 256 characters. */
export const ALIAS_NAME_PATTERN = '^alias/[a-zA-Z0-9/_-]{1,250}$';

export function keyArn(scope: AwsScope, keyId: string): string {
  return `arn:aws:kms:${scope.region}:${scope.accountId}:key/${keyId}`;
}

export function aliasArn(scope: AwsScope, aliasName: string): string {
  return `arn:aws:kms:${scope.region}:${scope.accountId}:${aliasName}`;
}

/**
 * The engine's key ID (or `alias/<name>`, which the engine resolves per tenant) of what a caller
 * named: a key ID, a key ARN, and where AWS allows them (`aliases`), an alias name or alias ARN.
 * An ARN of another account or region names no key of ours: NotFoundException, as AWS answers.
 */
export function engineKeyId(scope: AwsScope, value: string, { aliases }: { aliases: boolean }): string {
  const arn = ARN.exec(value);
  const resource = arn ? arn[3]! : value;
  if (arn && (arn[1] !== scope.region || arn[2] !== scope.accountId)) throw new ByokError('KEY_NOT_FOUND');
  if (resource.startsWith('alias/')) {
    if (!aliases) throw new ByokError('INVALID_KEY_ID', 'This operation takes a key ID or key ARN, not an alias.');
    return resource;
  }
  return arn ? resource.slice('key/'.length) : resource;
}

/** AWS's KeySpec of a material spec: symmetric keys are SYMMETRIC_DEFAULT (AES_256, and SM4_128 made through another dialect). */
export function awsKeySpec(spec: MaterialSpec): string {
  return MATERIAL_SPECS[spec].kind === 'symmetric' ? 'SYMMETRIC_DEFAULT' : spec;
}

/** Our material spec of an AWS KeySpec (SYMMETRIC_DEFAULT is AES-256-GCM). */
export function materialSpecOf(keySpec: string): MaterialSpec {
  if (keySpec === 'SYMMETRIC_DEFAULT') return 'AES_256';
  if (!Object.prototype.hasOwnProperty.call(MATERIAL_SPECS, keySpec) || MATERIAL_SPECS[keySpec as MaterialSpec].kind === 'symmetric') {
    throw new ByokError('ALGORITHM_UNSUPPORTED', `KeySpec ${keySpec.slice(0, 40)} is not supported.`);
  }
  return keySpec as MaterialSpec;
}

/** KeyMetadata as AWS declares it: every field with a truthful value, the optional ones only where they apply. */
export function keyMetadata(scope: AwsScope, m: KeyMetadata) {
  const info = MATERIAL_SPECS[m.keySpec];
  const keySpec = awsKeySpec(m.keySpec);
  // ExpirationModel and ValidTo describe imported material: absent until the first import.
  const imported = m.origin === 'EXTERNAL' && m.materialExpiresAt !== undefined;
  return {
    AWSAccountId: scope.accountId,
    KeyId: m.keyId,
    Arn: keyArn(scope, m.keyId),
    CreationDate: m.createdAt,
    Enabled: m.state === 'Enabled',
    Description: m.description ?? '',
    KeyUsage: m.keyUsage,
    KeyState: m.state,
    ...(m.deletionDate !== undefined ? { DeletionDate: m.deletionDate } : {}),
    ...(imported && m.materialExpiresAt !== null ? { ValidTo: m.materialExpiresAt } : {}),
    Origin: m.origin === 'EXTERNAL' ? 'EXTERNAL' : 'AWS_KMS',
    ...(imported ? { ExpirationModel: m.materialExpiresAt === null ? 'KEY_MATERIAL_DOES_NOT_EXPIRE' : 'KEY_MATERIAL_EXPIRES' } : {}),
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: keySpec,
    KeySpec: keySpec,
    ...(info.kind === 'symmetric' ? { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } : {}),
    ...(info.kind === 'private-key' ? { SigningAlgorithms: signingAlgorithmsFor(m.keySpec) } : {}),
    ...(info.kind === 'hmac' ? { MacAlgorithms: [MAC_ALGORITHM_OF[m.keySpec as HmacSpec]] } : {}),
    MultiRegion: false,
    ...(m.keyCheckValue ? { CurrentKeyMaterialId: m.keyCheckValue } : {}),
  };
}
