/**
 * The AWS KMS operations (API reference names and shapes), each a short mapping onto the
 * engine. Fields the SDK models declare that have no meaning here (Policy, Tags, GrantTokens,
 * KeyMaterialDescription, …) are accepted and ignored; fields that would change what a call does
 * and that we cannot honour (MultiRegion, custom key stores, Recipient, DryRun) are refused.
 * Responses name keys by ARN where AWS does.
 */
import { MATERIAL_SPECS, type MaterialSpec, type MessageType, type WrappingAlgorithm } from '../../algorithms/specs.js';
import { zeroize } from '../../bytes.js';
import { nowSeconds } from '../../clock.js';
import { ByokError } from '../../errors.js';
import { ALIAS_NAME_PATTERN, aliasArn, awsKeySpec, engineKeyId, keyArn, keyMetadata, materialSpecOf, type AwsDialectOptions } from './aws-shapes.js';
import { operation as op, type Body, type Operation } from './dialect.js';
import { encryptionContextAad, type EncryptionContext } from './encryption-context.js';
import { BASE64_SCHEMA, ignored, objectSchema } from './schemas.js';

const KEY_ID = { type: 'string', minLength: 1, maxLength: 2048 } as const;
const STRING = { type: 'string', maxLength: 32768 } as const;
const BOOLEAN = { type: 'boolean' } as const;
const GRANT_TOKENS = ignored({ type: 'array', maxItems: 10, items: { type: 'string', minLength: 1, maxLength: 8192 } }, 'there are no grants: the access key\'s tenant owns its keys');
const TAGS = ignored({
  type: 'array', maxItems: 50,
  items: objectSchema({ TagKey: { type: 'string', minLength: 1, maxLength: 128 }, TagValue: { type: 'string', maxLength: 256 } }, ['TagKey', 'TagValue']),
}, 'tags are not kept');
/** A blob of 1..4096 bytes (Plaintext, Message). */
const BLOB_4K = { ...BASE64_SCHEMA, maxLength: 5464 } as const;
/** AWS JSON 1.1 timestamps: epoch seconds, possibly with a fraction. */
const TIMESTAMP = { type: 'number', minimum: 0 } as const;
const ENCRYPTION_ALGORITHM = { type: 'string', enum: ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] } as const;
const RECIPIENT = { type: 'object' } as const;
const DRY_RUN_MODIFIERS = ignored({ type: 'array', items: { type: 'string' } }, 'only with DryRun, which is refused');
const KEY_SPECS = [
  'SYMMETRIC_DEFAULT', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'ECC_NIST_EDWARDS25519', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
  'ML_KEM_512', 'ML_KEM_768', 'ML_KEM_1024',
] as const;
const KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT', 'ENCAPSULATE_DECAPSULATE'] as const;

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');

/** A request field we cannot honour: refused, never silently ignored. */
function refuse(b: Body, field: string, allowed: (value: unknown) => boolean = (v) => v === undefined): void {
  if (!allowed(b[field])) throw new ByokError('ALGORITHM_UNSUPPORTED', `${field} is not supported by this service.`);
}

/** Encrypt, Decrypt and ReEncrypt use symmetric keys only here: SYMMETRIC_DEFAULT (AES-256-GCM, or SM4-GCM). */
function symmetricOnly(algorithm: unknown): void {
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
    throw new ByokError('ALGORITHM_UNSUPPORTED', `EncryptionAlgorithm ${String(algorithm)} is not supported: only symmetric keys encrypt here.`);
  }
}

/**
 * AWS pairs RSA and SM2 with ENCRYPT_DECRYPT too, and ECC and SM2 with KEY_AGREEMENT; this
 * service has those specs for signing only: unsupported (the caller asked for something AWS has),
 * while a pairing AWS refuses as well is a validation error.
 */
function checkKeyUsage(spec: MaterialSpec, keySpec: string, usage: string): void {
  const own = MATERIAL_SPECS[spec].usage;
  if (usage === own) return;
  const awsAlso = (spec.startsWith('RSA_') && usage === 'ENCRYPT_DECRYPT') || (spec === 'SM2' && usage === 'ENCRYPT_DECRYPT')
    || ((spec.startsWith('ECC_') || spec === 'SM2') && usage === 'KEY_AGREEMENT');
  if (awsAlso) throw new ByokError('ALGORITHM_UNSUPPORTED', `KeyUsage ${usage} with KeySpec ${keySpec} is not supported: ${keySpec} keys are for ${own}.`);
  throw new ByokError('INVALID_PARAMETER', `KeyUsage ${usage} is not compatible with KeySpec ${keySpec}.`);
}

/** AWS ImportKeyMaterial: ExpirationModel (default KEY_MATERIAL_EXPIRES) and ValidTo, checked as AWS does; the engine's expirationTime (0: never). */
const MAX_VALID_TO_DAYS = 365;
function materialExpiry(b: Body, now: number): number {
  const model = b.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES';
  if (model === 'KEY_MATERIAL_DOES_NOT_EXPIRE') {
    if (b.ValidTo !== undefined) throw new ByokError('INVALID_PARAMETER', 'ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.');
    return 0;
  }
  if (b.ValidTo === undefined) throw new ByokError('INVALID_PARAMETER', 'ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES (the default).');
  const validTo = Math.floor(b.ValidTo as number);
  if (validTo <= now) throw new ByokError('INVALID_PARAMETER', 'ValidTo must be a future date and time.');
  if (validTo > now + MAX_VALID_TO_DAYS * 86400) throw new ByokError('INVALID_PARAMETER', `ValidTo must be at most ${MAX_VALID_TO_DAYS} days from now.`);
  return validTo;
}

/** The engine's wrapping algorithm of an AWS AlgorithmSpec (SM2PKE is SM2_ENCRYPT). */
const wrappingAlgorithm = (name: string): WrappingAlgorithm => (name === 'SM2PKE' ? 'SM2_ENCRYPT' : name as WrappingAlgorithm);

/** The AWS operations of one configured dialect (its ARN scope and clock). */
export function awsOperations(options: AwsDialectOptions): Operation[] {
  const arn = (keyId: string) => keyArn(options, keyId);
  /** Key ID or key ARN only (the life-cycle and import calls). */
  const idOrArn = (value: string) => engineKeyId(options, value, { aliases: false });
  /** Key ID, key ARN, alias name or alias ARN (the calls that use a key). */
  const anyKey = (value: string) => engineKeyId(options, value, { aliases: true });
  const keyOnly = objectSchema({ KeyId: KEY_ID }, ['KeyId']);
  const keyUse = (extra: Record<string, unknown>, required: string[]) => objectSchema({ KeyId: KEY_ID, GrantTokens: GRANT_TOKENS, DryRun: BOOLEAN, ...extra }, ['KeyId', ...required]);

  return [
    op('CreateKey', objectSchema({
      Policy: ignored(STRING, 'there are no key policies: the access key\'s tenant owns its keys'), Description: { type: 'string', maxLength: 8192 }, KeyUsage: { type: 'string', enum: [...KEY_USAGES] },
      CustomerMasterKeySpec: { type: 'string', enum: [...KEY_SPECS] }, KeySpec: { type: 'string', enum: [...KEY_SPECS] },
      Origin: { type: 'string', enum: ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] }, CustomKeyStoreId: STRING,
      BypassPolicyLockoutSafetyCheck: ignored(BOOLEAN, 'there are no key policies'), Tags: TAGS, MultiRegion: BOOLEAN, XksKeyId: STRING,
    }, []), async (engine, tenant, b) => {
      refuse(b, 'MultiRegion', (v) => v === undefined || v === false);
      refuse(b, 'CustomKeyStoreId');
      refuse(b, 'XksKeyId');
      const origin = b.Origin ?? 'AWS_KMS';
      if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL') throw new ByokError('ALGORITHM_UNSUPPORTED', `Origin ${origin} is not supported: AWS_KMS or EXTERNAL.`);
      if (b.KeySpec !== undefined && b.CustomerMasterKeySpec !== undefined && b.KeySpec !== b.CustomerMasterKeySpec) {
        throw new ByokError('INVALID_PARAMETER', 'KeySpec and CustomerMasterKeySpec name different specs: give KeySpec only.');
      }
      const keySpec: string = b.KeySpec ?? b.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
      const spec = materialSpecOf(keySpec);
      checkKeyUsage(spec, keySpec, b.KeyUsage ?? 'ENCRYPT_DECRYPT');
      const m = await engine.createKey({
        tenant, origin: origin === 'EXTERNAL' ? 'EXTERNAL' : 'KMS', keySpec: spec, ...(b.Description ? { description: b.Description } : {}),
      });
      return { KeyMetadata: keyMetadata(options, m) };
    }),

    op('DescribeKey', objectSchema({ KeyId: KEY_ID, GrantTokens: GRANT_TOKENS }, ['KeyId']), async (engine, tenant, b) => ({
      KeyMetadata: keyMetadata(options, await engine.describeKey({ tenant, keyId: anyKey(b.KeyId) })),
    })),

    op('ListKeys', objectSchema({ Limit: LIMIT, Marker: MARKER }, []), async (engine, tenant, b) => {
      const page = await engine.listKeys({ tenant, ...pageOf(b) });
      return { Keys: page.keys.map((m) => ({ KeyId: m.keyId, KeyArn: arn(m.keyId) })), Truncated: page.truncated, ...nextMarker(page) };
    }),

    ...([['EnableKey', 'enableKey'], ['DisableKey', 'disableKey']] as const).map(([name, call]) => op(name, keyOnly, async (engine, tenant, b) => {
      await engine[call]({ tenant, keyId: idOrArn(b.KeyId) });
      return {};
    })),

    op('ScheduleKeyDeletion', objectSchema({ KeyId: KEY_ID, PendingWindowInDays: { type: 'integer', minimum: 7, maximum: 30 } }, ['KeyId']), async (engine, tenant, b) => {
      const pendingDays = b.PendingWindowInDays ?? 30;
      const m = await engine.scheduleKeyDeletion({ tenant, keyId: idOrArn(b.KeyId), pendingDays });
      return { KeyId: arn(m.keyId), DeletionDate: m.deletionDate, KeyState: m.state, PendingWindowInDays: pendingDays };
    }),

    op('CancelKeyDeletion', keyOnly, async (engine, tenant, b) => {
      const m = await engine.cancelKeyDeletion({ tenant, keyId: idOrArn(b.KeyId) });
      return { KeyId: arn(m.keyId) };
    }),

    op('GetParametersForImport', objectSchema({
      KeyId: KEY_ID,
      WrappingAlgorithm: { type: 'string', enum: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSAES_PKCS1_V1_5', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256', 'SM2PKE'] },
      WrappingKeySpec: { type: 'string', enum: ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] },
    }, ['KeyId', 'WrappingAlgorithm', 'WrappingKeySpec']), async (engine, tenant, b) => {
      const p = await engine.getParametersForImport({ tenant, keyId: idOrArn(b.KeyId), wrappingAlgorithm: wrappingAlgorithm(b.WrappingAlgorithm), wrappingKeySpec: b.WrappingKeySpec });
      return { KeyId: arn(p.keyId), ImportToken: p.importToken, PublicKey: p.publicKey, ParametersValidTo: p.expirationTime };
    }, { limit: 'getParametersForImport' }),

    op('ImportKeyMaterial', objectSchema({
      KeyId: KEY_ID, ImportToken: BASE64_SCHEMA, EncryptedKeyMaterial: BASE64_SCHEMA, ValidTo: TIMESTAMP,
      ExpirationModel: { type: 'string', enum: ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'] },
      ImportType: ignored({ type: 'string', enum: ['NEW_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL'] }, 'a key has one material: the first import sets it, a re-import must be the same'),
      KeyMaterialDescription: ignored({ type: 'string', maxLength: 256 }, 'not kept'),
      KeyMaterialId: ignored({ type: 'string', maxLength: 64 }, 'a key has one material'),
    }, ['KeyId', 'ImportToken', 'EncryptedKeyMaterial']), async (engine, tenant, b) => {
      const expirationTime = materialExpiry(b, nowSeconds(options.clock));
      const r = await engine.importKeyMaterial({
        tenant, keyId: idOrArn(b.KeyId), importToken: b.ImportToken, encryptedKeyMaterial: b.EncryptedKeyMaterial, expirationTime,
      });
      return { KeyId: arn(r.keyId), KeyMaterialId: r.keyCheckValue };
    }, { metric: 'import', limit: 'importKeyMaterial' }),

    op('DeleteImportedKeyMaterial', objectSchema({ KeyId: KEY_ID, KeyMaterialId: ignored({ type: 'string', maxLength: 64 }, 'a key has one material') }, ['KeyId']), async (engine, tenant, b) => {
      const before = await engine.describeKey({ tenant, keyId: idOrArn(b.KeyId) });
      const m = await engine.deleteKeyMaterial({ tenant, keyId: before.keyId });
      return { KeyId: arn(m.keyId), ...(before.keyCheckValue ? { KeyMaterialId: before.keyCheckValue } : {}) };
    }),

    op('Encrypt', keyUse({ Plaintext: BLOB_4K, EncryptionContext: ENCRYPTION_CONTEXT, EncryptionAlgorithm: ENCRYPTION_ALGORITHM }, ['Plaintext']), async (engine, tenant, b) => {
      refuse(b, 'DryRun', (v) => v !== true);
      symmetricOnly(b.EncryptionAlgorithm);
      const plaintext = bytes(b.Plaintext);
      try {
        const r = await engine.encrypt({ tenant, keyId: anyKey(b.KeyId), plaintext, ...aad(b.EncryptionContext) });
        return { CiphertextBlob: b64(r.ciphertextBlob), KeyId: arn(r.keyId), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } finally {
        zeroize(plaintext);
      }
    }),

    ...([['GenerateDataKey', true], ['GenerateDataKeyWithoutPlaintext', false]] as const).map(([name, withPlaintext]) => op(name, keyUse({
      EncryptionContext: ENCRYPTION_CONTEXT, NumberOfBytes: { type: 'integer', minimum: 1, maximum: 1024 }, KeySpec: { type: 'string', enum: ['AES_128', 'AES_256'] },
      ...(withPlaintext ? { Recipient: RECIPIENT } : {}),
    }, []), async (engine, tenant, b) => {
      refuse(b, 'Recipient');
      refuse(b, 'DryRun', (v) => v !== true);
      // AWS: exactly one of KeySpec and NumberOfBytes.
      if ((b.KeySpec === undefined) === (b.NumberOfBytes === undefined)) throw new ByokError('INVALID_PARAMETER', 'Give either KeySpec or NumberOfBytes.');
      const r = await engine.generateDataKey({
        tenant, keyId: anyKey(b.KeyId), withPlaintext, ...aad(b.EncryptionContext),
        ...(b.KeySpec !== undefined ? { keySpec: b.KeySpec } : { numberOfBytes: b.NumberOfBytes }),
      });
      try {
        return { CiphertextBlob: b64(r.ciphertextBlob), ...(r.plaintext ? { Plaintext: b64(r.plaintext) } : {}), KeyId: arn(r.keyId) };
      } finally {
        zeroize(r.plaintext);
      }
    })),

    op('ReEncrypt', objectSchema({
      CiphertextBlob: BASE64_SCHEMA, SourceEncryptionContext: ENCRYPTION_CONTEXT, SourceKeyId: KEY_ID, DestinationKeyId: KEY_ID,
      DestinationEncryptionContext: ENCRYPTION_CONTEXT, SourceEncryptionAlgorithm: ENCRYPTION_ALGORITHM, DestinationEncryptionAlgorithm: ENCRYPTION_ALGORITHM,
      GrantTokens: GRANT_TOKENS, DryRun: BOOLEAN, DryRunModifiers: DRY_RUN_MODIFIERS,
    }, ['CiphertextBlob', 'DestinationKeyId']), async (engine, tenant, b) => {
      refuse(b, 'DryRun', (v) => v !== true);
      symmetricOnly(b.SourceEncryptionAlgorithm);
      symmetricOnly(b.DestinationEncryptionAlgorithm);
      const source = aad(b.SourceEncryptionContext).aad;
      const destination = aad(b.DestinationEncryptionContext).aad;
      const r = await engine.reEncrypt({
        tenant, ciphertextBlob: bytes(b.CiphertextBlob), destinationKeyId: anyKey(b.DestinationKeyId),
        ...(b.SourceKeyId !== undefined ? { sourceKeyId: anyKey(b.SourceKeyId) } : {}),
        ...(source ? { sourceAad: source } : {}), ...(destination ? { destinationAad: destination } : {}),
      });
      return {
        CiphertextBlob: b64(r.ciphertextBlob), SourceKeyId: arn(r.sourceKeyId), KeyId: arn(r.keyId),
        SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    }),

    op('Decrypt', objectSchema({
      CiphertextBlob: BASE64_SCHEMA, EncryptionContext: ENCRYPTION_CONTEXT, GrantTokens: GRANT_TOKENS, KeyId: KEY_ID, EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
      Recipient: RECIPIENT, DryRun: BOOLEAN, DryRunModifiers: DRY_RUN_MODIFIERS,
    }, ['CiphertextBlob']), async (engine, tenant, b) => {
      refuse(b, 'Recipient');
      refuse(b, 'DryRun', (v) => v !== true);
      symmetricOnly(b.EncryptionAlgorithm);
      const r = await engine.decrypt({
        tenant, ciphertextBlob: bytes(b.CiphertextBlob), ...(b.KeyId !== undefined ? { keyId: anyKey(b.KeyId) } : {}), ...aad(b.EncryptionContext),
      });
      try {
        return { KeyId: arn(r.keyId), Plaintext: b64(r.plaintext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } finally {
        zeroize(r.plaintext);
      }
    }),

    op('GetPublicKey', objectSchema({ KeyId: KEY_ID, GrantTokens: GRANT_TOKENS }, ['KeyId']), async (engine, tenant, b) => {
      const r = await engine.getPublicKey({ tenant, keyId: anyKey(b.KeyId) });
      const keySpec = awsKeySpec(r.keySpec);
      return { KeyId: arn(r.keyId), PublicKey: r.publicKey, CustomerMasterKeySpec: keySpec, KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: r.signingAlgorithms };
    }),

    op('Sign', keyUse({ Message: BLOB_4K, MessageType: MESSAGE_TYPE, SigningAlgorithm: SIGNING_ALGORITHM }, ['Message', 'SigningAlgorithm']), async (engine, tenant, b) => {
      refuse(b, 'DryRun', (v) => v !== true);
      const r = await engine.sign({ tenant, keyId: anyKey(b.KeyId), message: bytes(b.Message), signingAlgorithm: b.SigningAlgorithm, ...messageType(b) });
      return { KeyId: arn(r.keyId), Signature: b64(r.signature), SigningAlgorithm: r.signingAlgorithm };
    }),

    op('Verify', keyUse({ Message: BLOB_4K, MessageType: MESSAGE_TYPE, Signature: BASE64_SCHEMA, SigningAlgorithm: SIGNING_ALGORITHM }, ['Message', 'Signature', 'SigningAlgorithm']), async (engine, tenant, b) => {
      refuse(b, 'DryRun', (v) => v !== true);
      const r = await engine.verify({ tenant, keyId: anyKey(b.KeyId), message: bytes(b.Message), signingAlgorithm: b.SigningAlgorithm, signature: bytes(b.Signature), ...messageType(b) });
      // AWS answers an invalid signature with KMSInvalidSignatureException, never SignatureValid: false.
      if (!r.signatureValid) throw new ByokError('SIGNATURE_VERIFY_FAILED');
      return { KeyId: arn(r.keyId), SignatureValid: true, SigningAlgorithm: b.SigningAlgorithm };
    }),

    op('GenerateMac', keyUse({ Message: BLOB_4K, MacAlgorithm: MAC_ALGORITHM }, ['Message', 'MacAlgorithm']), async (engine, tenant, b) => {
      refuse(b, 'DryRun', (v) => v !== true);
      const r = await engine.generateMac({ tenant, keyId: anyKey(b.KeyId), message: bytes(b.Message), macAlgorithm: b.MacAlgorithm });
      return { Mac: b64(r.mac), MacAlgorithm: r.macAlgorithm, KeyId: arn(r.keyId) };
    }),

    op('VerifyMac', keyUse({ Message: BLOB_4K, MacAlgorithm: MAC_ALGORITHM, Mac: BASE64_SCHEMA }, ['Message', 'MacAlgorithm', 'Mac']), async (engine, tenant, b) => {
      refuse(b, 'DryRun', (v) => v !== true);
      const r = await engine.verifyMac({ tenant, keyId: anyKey(b.KeyId), message: bytes(b.Message), mac: bytes(b.Mac), macAlgorithm: b.MacAlgorithm });
      // AWS answers an invalid MAC with KMSInvalidMacException, never MacValid: false.
      if (!r.macValid) throw new ByokError('MAC_VERIFY_FAILED');
      return { KeyId: arn(r.keyId), MacValid: true, MacAlgorithm: b.MacAlgorithm };
    }),

    op('GenerateRandom', objectSchema({ NumberOfBytes: { type: 'integer', minimum: 1, maximum: 1024 }, CustomKeyStoreId: STRING, Recipient: RECIPIENT }, ['NumberOfBytes']), async (engine, _tenant, b) => {
      refuse(b, 'CustomKeyStoreId');
      refuse(b, 'Recipient');
      const random = await engine.generateRandom(b.NumberOfBytes);
      try {
        return { Plaintext: b64(random) };
      } finally {
        zeroize(random);
      }
    }),

    op('CreateAlias', objectSchema({ AliasName: ALIAS_NAME, TargetKeyId: KEY_ID }, ['AliasName', 'TargetKeyId']), async (engine, tenant, b) => {
      await engine.createAlias({ tenant, aliasName: b.AliasName, keyId: idOrArn(b.TargetKeyId) });
      return {};
    }),

    op('ListAliases', objectSchema({ KeyId: KEY_ID, Limit: LIMIT, Marker: MARKER }, []), async (engine, tenant, b) => {
      const page = await engine.listAliases({ tenant, ...(b.KeyId !== undefined ? { keyId: idOrArn(b.KeyId) } : {}), ...pageOf(b) });
      return {
        Aliases: page.aliases.map((a) => ({
          AliasName: a.aliasName, AliasArn: aliasArn(options, a.aliasName), TargetKeyId: a.keyId, CreationDate: a.createdAt, LastUpdatedDate: a.createdAt,
        })),
        Truncated: page.truncated, ...nextMarker(page),
      };
    }),

    op('DeleteAlias', objectSchema({ AliasName: ALIAS_NAME }, ['AliasName']), async (engine, tenant, b) => {
      await engine.deleteAlias({ tenant, aliasName: b.AliasName });
      return {};
    }),
  ];
}

const LIMIT = { type: 'integer', minimum: 1, maximum: 1000 } as const;
const MARKER = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const ALIAS_NAME = { type: 'string', minLength: 7, maxLength: 256, pattern: ALIAS_NAME_PATTERN } as const;

/** The engine's page request of an AWS Limit and Marker. */
function pageOf(b: Body): { limit?: number; marker?: string } {
  return { ...(b.Limit !== undefined ? { limit: b.Limit } : {}), ...(b.Marker !== undefined ? { marker: b.Marker } : {}) };
}

/** AWS sends NextMarker only when Truncated. */
function nextMarker(page: { truncated: boolean; nextMarker?: string }): { NextMarker?: string } {
  return page.truncated && page.nextMarker !== undefined ? { NextMarker: page.nextMarker } : {};
}

const ENCRYPTION_CONTEXT = { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 8192 } } as const;
const MESSAGE_TYPE = { type: 'string', enum: ['RAW', 'DIGEST', 'EXTERNAL_MU'] } as const;
const SIGNING_ALGORITHM = { type: 'string', maxLength: 64 } as const;
const MAC_ALGORITHM = { type: 'string', enum: ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] } as const;

/** The encryption context as associated data (one canonical form for every dialect); absent or empty: none. */
function aad(context: EncryptionContext | undefined): { aad?: Uint8Array } {
  const bytes = encryptionContextAad(context);
  return bytes ? { aad: bytes } : {};
}

/** RAW (the default) or DIGEST; EXTERNAL_MU is for ML-DSA keys, which this service has not. */
function messageType(b: Body): { messageType?: MessageType } {
  if (b.MessageType === 'EXTERNAL_MU') throw new ByokError('ALGORITHM_UNSUPPORTED', 'MessageType EXTERNAL_MU is for ML-DSA keys, which this service does not have.');
  return b.MessageType !== undefined ? { messageType: b.MessageType } : {};
}
