/**
 * The Tencent Cloud KMS actions (kms.v20190118) the service serves, one line of schema and one
 * engine call each. Every request field the SDK's models declare for these actions is accepted:
 * the ones with meaning are implemented (EncryptionContext as AES-GCM / SM4-GCM associated data,
 * EncryptionPublicKey, ValidTo, Offset / Limit, …), the others are checked for shape and ignored
 * (`ignored(...)`, listed in the README). Every response field the models declare is present with
 * a truthful value.
 */
import { MATERIAL_SPECS, type MaterialSpec } from '../../algorithms/specs.js';
import { zeroize } from '../../bytes.js';
import type { ImportEngine } from '../../engine/import-engine.js';
import type { KeyMetadata, KeyState } from '../../engine/types.js';
import { ByokError } from '../../errors.js';
import { operation as op, type Body, type Operation } from './dialect.js';
import { jsonEncryptionContextAad } from './encryption-context.js';
import { ENVELOPE_ALGORITHMS, sealForCaller } from './plaintext-envelope.js';
import {
  BASE64_SCHEMA, ignored, KEY_ID_SCHEMA, objectSchema, SHORT_STRING_SCHEMA, TENCENT_VALID_TO_SCHEMA, TOKEN_SCHEMA,
  WRAPPING_ALGORITHM_SCHEMA, WRAPPING_KEY_SPEC_SCHEMA,
} from './schemas.js';

/** Tencent KeyState names. */
export const TENCENT_KEY_STATE: Readonly<Record<KeyState, string>> = {
  Enabled: 'Enabled', Disabled: 'Disabled', PendingDeletion: 'PendingDelete', PendingImport: 'PendingImport',
};

/** Tencent's KeyUsage for the specs it names; ours (the AWS name) for the rest. */
function tencentKeyUsage(spec: MaterialSpec): string {
  const info = MATERIAL_SPECS[spec];
  if (info.usage !== 'SIGN_VERIFY') return info.usage;
  const key = info.privateKey!;
  if (key.type === 'rsa') return `ASYMMETRIC_SIGN_VERIFY_RSA_${key.bits}`;
  return ({ SM2: 'ASYMMETRIC_SIGN_VERIFY_SM2', 'P-256': 'ASYMMETRIC_SIGN_VERIFY_ECC', 'P-384': 'ASYMMETRIC_SIGN_VERIFY_ECDSA384' } as Record<string, string>)[key.curve] ?? info.usage;
}

/** CreateKey's KeyUsage values and the key spec each makes; the asymmetric-decrypt ones are refused. */
const KEY_USAGE_SPEC: Readonly<Record<string, MaterialSpec | undefined>> = {
  ENCRYPT_DECRYPT: 'AES_256', ASYMMETRIC_SIGN_VERIFY_RSA_2048: 'RSA_2048', ASYMMETRIC_SIGN_VERIFY_ECC: 'ECC_NIST_P256',
  ASYMMETRIC_SIGN_VERIFY_ECDSA384: 'ECC_NIST_P384', ASYMMETRIC_SIGN_VERIFY_SM2: 'SM2',
  ASYMMETRIC_DECRYPT_RSA_2048: undefined, ASYMMETRIC_DECRYPT_SM2: undefined,
};

/** KeyMetadata with every field of the SDK's model; nothing here rotates, syncs or belongs to a cluster. */
export function keyMetadata(m: KeyMetadata) {
  const uin = /^[0-9]{1,15}$/.test(m.tenant) ? Number(m.tenant) : 0;
  return {
    KeyId: m.keyId, Alias: m.alias ?? '', CreateTime: m.createdAt, Description: m.description ?? '',
    KeyState: TENCENT_KEY_STATE[m.state], KeyUsage: tencentKeyUsage(m.keySpec),
    // 2: FIPS 140-2 algorithms, 4: the Chinese national (SM) algorithms.
    Type: m.keySpec === 'SM4_128' || m.keySpec === 'SM2' ? 4 : 2,
    CreatorUin: uin, CreatorUinString: m.tenant, KeyRotationEnabled: false, Owner: 'user', NextRotateTime: 0,
    DeletionDate: m.deletionDate ?? 0, Origin: m.origin === 'EXTERNAL' ? 'EXTERNAL' : 'TENCENT_KMS', ValidTo: m.materialExpiresAt ?? 0,
    ResourceId: `creatorUin/${m.tenant}/${m.keyId}`, HsmClusterId: '', RotateDays: 0, LastRotateTime: 0,
    IsSyncReplica: 0, SourceRegion: '', SyncStatus: 0, SyncMessages: '', SyncStartTime: 0, SyncEndTime: 0, SourceHsmClusterId: '',
    AccountAppId: 0, AccountUin: uin, AccountName: m.tenant,
    KeyCheckValue: m.keyCheckValue ?? '',
  };
}

const TAGS = ignored({
  type: 'array', maxItems: 50,
  items: objectSchema({ TagKey: { type: 'string', maxLength: 128 }, TagValue: { type: 'string', maxLength: 256 } }, ['TagKey', 'TagValue']),
}, 'tags are not stored (TagCode 2 says so)');
const HSM_CLUSTER_ID = ignored(SHORT_STRING_SCHEMA, 'one key space, no HSM clusters');
const MEMBER_ACCOUNT = ignored(objectSchema({ MemberAppId: { type: 'integer' }, MemberUin: { type: 'integer' } }, []), 'a caller acts for its own tenant only');
/** A JSON object string of string values, as AES-GCM / SM4-GCM associated data (encryption-context.ts). */
const ENCRYPTION_CONTEXT = { type: 'string', maxLength: 1024 } as const;
const ENCRYPTION_PUBLIC_KEY = { type: 'string', maxLength: 4096 } as const;
const ENCRYPTION_ALGORITHM = { type: 'string', enum: [...ENVELOPE_ALGORITHMS] } as const;

/** Whether tags were sent and dropped: TagCode 2 ("business error") with why, else 0. */
function tagResult(tags: unknown[] | undefined) {
  return tags?.length ? { TagCode: 2, TagMsg: 'byok-hsm does not store tags.' } : { TagCode: 0, TagMsg: '' };
}

/** A plaintext as the response carries it: base64, or sealed under the caller's EncryptionPublicKey. */
function plaintextField(plaintext: Uint8Array, b: Body): string {
  const out = b.EncryptionPublicKey ? sealForCaller(plaintext, b.EncryptionPublicKey, b.EncryptionAlgorithm) : plaintext;
  return Buffer.from(out).toString('base64');
}

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const withAad = (json: string | undefined) => {
  const aad = jsonEncryptionContextAad(json);
  return aad ? { aad } : {};
};

const keyOnly = objectSchema({ KeyId: KEY_ID_SCHEMA, MemberAccount: MEMBER_ACCOUNT }, ['KeyId']);

async function decryptTo(engine: ImportEngine, tenant: string, b: Body) {
  const r = await engine.decrypt({ tenant, ciphertextBlob: bytes(b.CiphertextBlob), ...withAad(b.EncryptionContext) });
  try {
    return { KeyId: r.keyId, Plaintext: plaintextField(r.plaintext, b) };
  } finally {
    zeroize(r.plaintext);
  }
}

export const TENCENT_OPERATIONS: readonly Operation[] = [
  op('CreateKey', objectSchema({
    Alias: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_-]{0,59}$' }, Description: { type: 'string', maxLength: 1024 },
    KeyUsage: { type: 'string', enum: Object.keys(KEY_USAGE_SPEC) }, Type: { type: 'integer', enum: [1, 2] },
    Tags: TAGS, HsmClusterId: HSM_CLUSTER_ID,
  }, ['Alias']), async (engine, tenant, b) => {
    const keySpec = KEY_USAGE_SPEC[b.KeyUsage ?? 'ENCRYPT_DECRYPT'];
    if (keySpec === undefined) throw new ByokError('ALGORITHM_UNSUPPORTED', `${b.KeyUsage}: byok-hsm keys do not decrypt asymmetrically.`);
    const m = await engine.createKey({
      tenant, alias: b.Alias, keySpec, origin: b.Type === 2 ? 'EXTERNAL' : 'KMS', ...(b.Description !== undefined ? { description: b.Description } : {}),
    });
    return {
      KeyId: m.keyId, Alias: m.alias ?? '', CreateTime: m.createdAt, Description: m.description ?? '', KeyState: TENCENT_KEY_STATE[m.state],
      KeyUsage: tencentKeyUsage(m.keySpec), ...tagResult(b.Tags), HsmClusterId: '',
    };
  }),

  op('GetParametersForImport', objectSchema({
    KeyId: KEY_ID_SCHEMA, WrappingAlgorithm: WRAPPING_ALGORITHM_SCHEMA, WrappingKeySpec: WRAPPING_KEY_SPEC_SCHEMA,
  }, ['KeyId', 'WrappingAlgorithm', 'WrappingKeySpec']), async (engine, tenant, b) => {
    const p = await engine.getParametersForImport({ tenant, keyId: b.KeyId, wrappingAlgorithm: b.WrappingAlgorithm, wrappingKeySpec: b.WrappingKeySpec });
    return { KeyId: p.keyId, ImportToken: p.importToken, PublicKey: p.publicKey, ParametersValidTo: p.expirationTime };
  }, { limit: 'getParametersForImport' }),

  op('ImportKeyMaterial', objectSchema({
    KeyId: KEY_ID_SCHEMA, ImportToken: TOKEN_SCHEMA, EncryptedKeyMaterial: BASE64_SCHEMA, ValidTo: TENCENT_VALID_TO_SCHEMA,
  }, ['KeyId', 'ImportToken', 'EncryptedKeyMaterial']), async (engine, tenant, b) => {
    await engine.importKeyMaterial({
      tenant, keyId: b.KeyId, importToken: b.ImportToken, encryptedKeyMaterial: b.EncryptedKeyMaterial,
      ...(b.ValidTo !== undefined ? { expirationTime: Number(b.ValidTo) } : {}),
    });
    return {};
  }, { metric: 'import', limit: 'importKeyMaterial' }),

  op('DeleteImportedKeyMaterial', objectSchema({ KeyId: KEY_ID_SCHEMA }, ['KeyId']), async (engine, tenant, b) => {
    await engine.deleteKeyMaterial({ tenant, keyId: b.KeyId });
    return {};
  }),

  op('DescribeKey', keyOnly, async (engine, tenant, b) => ({
    KeyMetadata: keyMetadata(await engine.describeKey({ tenant, keyId: b.KeyId })),
  })),

  ...([['EnableKey', 'enableKey'], ['DisableKey', 'disableKey']] as const).map(([name, call]) => op(name, keyOnly, async (engine, tenant, b) => {
    await engine[call]({ tenant, keyId: b.KeyId });
    return {};
  })),

  op('ListKeys', objectSchema({
    Offset: { type: 'integer', minimum: 0 }, Limit: { type: 'integer', minimum: 1, maximum: 200 },
    Role: { type: 'integer', enum: [0, 1] }, HsmClusterId: HSM_CLUSTER_ID,
  }, []), async (engine, tenant, b) => {
    // Role 1 is keys cloud products created for the caller: a local service has none.
    const keys = b.Role === 1 ? [] : await engine.listKeys(tenant);
    const offset = b.Offset ?? 0;
    return { Keys: keys.slice(offset, offset + (b.Limit ?? 10)).map((k) => ({ KeyId: k.keyId })), TotalCount: keys.length };
  }),

  op('ScheduleKeyDeletion', objectSchema({
    KeyId: KEY_ID_SCHEMA, PendingWindowInDays: { type: 'integer', minimum: 7, maximum: 30 }, MemberAccount: MEMBER_ACCOUNT,
  }, ['KeyId', 'PendingWindowInDays']), async (engine, tenant, b) => {
    const m = await engine.scheduleKeyDeletion({ tenant, keyId: b.KeyId, pendingDays: b.PendingWindowInDays });
    return { DeletionDate: m.deletionDate, KeyId: m.keyId };
  }),

  op('CancelKeyDeletion', keyOnly, async (engine, tenant, b) => ({ KeyId: (await engine.cancelKeyDeletion({ tenant, keyId: b.KeyId })).keyId })),

  op('Encrypt', objectSchema({
    KeyId: KEY_ID_SCHEMA, Plaintext: BASE64_SCHEMA, EncryptionContext: ENCRYPTION_CONTEXT,
  }, ['KeyId', 'Plaintext']), async (engine, tenant, b) => {
    const plaintext = bytes(b.Plaintext);
    try {
      const r = await engine.encrypt({ tenant, keyId: b.KeyId, plaintext, ...withAad(b.EncryptionContext) });
      return { CiphertextBlob: b64(r.ciphertextBlob), KeyId: r.keyId };
    } finally {
      zeroize(plaintext);
    }
  }),

  op('Decrypt', objectSchema({
    CiphertextBlob: BASE64_SCHEMA, EncryptionContext: ENCRYPTION_CONTEXT, EncryptionPublicKey: ENCRYPTION_PUBLIC_KEY, EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
  }, ['CiphertextBlob']), (engine, tenant, b) => decryptTo(engine, tenant, b)),

  op('ReEncrypt', objectSchema({
    CiphertextBlob: BASE64_SCHEMA, DestinationKeyId: KEY_ID_SCHEMA, SourceEncryptionContext: ENCRYPTION_CONTEXT, DestinationEncryptionContext: ENCRYPTION_CONTEXT,
  }, ['CiphertextBlob']), async (engine, tenant, b) => {
    const ciphertextBlob = bytes(b.CiphertextBlob);
    const sourceAad = jsonEncryptionContextAad(b.SourceEncryptionContext);
    const destinationAad = jsonEncryptionContextAad(b.DestinationEncryptionContext);
    // No DestinationKeyId: the blob's own key (with a fresh IV, so always re-encrypted).
    const r = await engine.reEncrypt({
      tenant, ciphertextBlob, ...(b.DestinationKeyId !== undefined ? { destinationKeyId: b.DestinationKeyId } : {}), ...(sourceAad ? { sourceAad } : {}), ...(destinationAad ? { destinationAad } : {}),
    });
    return { CiphertextBlob: b64(r.ciphertextBlob), KeyId: r.keyId, SourceKeyId: r.sourceKeyId, ReEncrypted: true };
  }),

  op('GenerateDataKey', objectSchema({
    KeyId: KEY_ID_SCHEMA, KeySpec: { type: 'string', enum: ['AES_128', 'AES_256'] }, NumberOfBytes: { type: 'integer', minimum: 1, maximum: 1024 },
    EncryptionContext: ENCRYPTION_CONTEXT, EncryptionPublicKey: ENCRYPTION_PUBLIC_KEY, EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
    IsHostedByKms: { type: 'integer', enum: [0, 1] },
    DataKeyName: ignored({ type: 'string', maxLength: 256 }, 'only for IsHostedByKms 1, which is refused'),
    Description: ignored({ type: 'string', maxLength: 100 }, 'only for IsHostedByKms 1, which is refused'),
    HsmClusterId: HSM_CLUSTER_ID, Tags: TAGS,
  }, ['KeyId']), async (engine, tenant, b) => {
    if (b.IsHostedByKms === 1) throw new ByokError('ALGORITHM_UNSUPPORTED', 'byok-hsm does not host data keys (IsHostedByKms 1).');
    if (b.KeySpec === undefined && b.NumberOfBytes === undefined) throw new ByokError('INVALID_PARAMETER', 'KeySpec or NumberOfBytes is required.');
    // Both given: NumberOfBytes wins, as Tencent documents.
    const size = b.NumberOfBytes !== undefined ? { numberOfBytes: b.NumberOfBytes } : { keySpec: b.KeySpec };
    const r = await engine.generateDataKey({ tenant, keyId: b.KeyId, ...size, ...withAad(b.EncryptionContext), withPlaintext: true });
    try {
      return { KeyId: r.keyId, Plaintext: plaintextField(r.plaintext!, b), CiphertextBlob: b64(r.ciphertextBlob), DataKeyId: '', ...tagResult(b.Tags) };
    } finally {
      zeroize(r.plaintext!);
    }
  }),

  op('GenerateRandom', objectSchema({ NumberOfBytes: { type: 'integer', minimum: 1, maximum: 1024 } }, ['NumberOfBytes']), async (engine, _tenant, b) => {
    const random = await engine.generateRandom(b.NumberOfBytes);
    return { Plaintext: b64(random) };
  }),
];
