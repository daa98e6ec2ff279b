/**
 * The Huawei Cloud KMS actions (huaweicloudsdkkms v2) the service serves, one line of schema and
 * one engine call each. Every request field the SDK's models declare for these actions is
 * accepted: the ones with meaning are implemented (additional_authenticated_data as AES-GCM /
 * SM4-GCM associated data, message_type, limit / marker, key_state / key_spec filters, …), the
 * others are checked for shape and ignored (`ignored(...)`, listed in the README). Every response
 * field the models declare is present with a truthful value. The SDK's models declare numbers as
 * strings (`limit`, `pending_days`, `datakey_length`): both are taken. Times are milliseconds, as
 * the real API answers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { MATERIAL_SPECS, parseMaterialSpec, type MaterialSpec } from '../../algorithms/specs.js';
import { asBuffer, zeroize } from '../../bytes.js';
import type { KeyMetadata, KeyState } from '../../engine/types.js';
import { ByokError } from '../../errors.js';
import { operation as op, type Body, type Operation } from './dialect.js';
import {
  BASE64_SCHEMA, EPOCH_SECONDS_SCHEMA, ignored, integerLike, KEY_ID_SCHEMA, objectSchema, SEQUENCE_SCHEMA, SHORT_STRING_SCHEMA,
  toInteger, TOKEN_SCHEMA, WRAPPING_ALGORITHM_SCHEMA, WRAPPING_KEY_SPEC_SCHEMA,
} from './schemas.js';

/** Huawei key_state codes: 2 enabled, 3 disabled, 4 pending deletion, 5 pending import. */
export const HUAWEI_KEY_STATE: Readonly<Record<KeyState, string>> = {
  Enabled: '2', Disabled: '3', PendingDeletion: '4', PendingImport: '5',
};
const STATE_OF_CODE = Object.fromEntries(Object.entries(HUAWEI_KEY_STATE).map(([s, c]) => [c, s])) as Record<string, KeyState>;

/** The region a key is in: a local service has one, and names it so. */
export const HUAWEI_REGION = 'local';

/** Huawei's key_spec names where they differ from ours (AWS's). */
const HUAWEI_KEY_SPEC: Partial<Record<MaterialSpec, string>> = {
  SM4_128: 'SM4', ECC_NIST_P256: 'EC_P256', ECC_NIST_P384: 'EC_P384', ECC_NIST_P521: 'EC_P521', ECC_SECG_P256K1: 'EC_SECP256K1',
};
const KEY_SPEC_NAMES = [...new Set((Object.keys(MATERIAL_SPECS) as MaterialSpec[]).flatMap((s) => [s, HUAWEI_KEY_SPEC[s] ?? s]))];
const huaweiSpec = (spec: MaterialSpec) => HUAWEI_KEY_SPEC[spec] ?? spec;

/** Data key sizes by create-datakey key_spec, in bytes. */
const DATA_KEY_SPEC_BYTES: Readonly<Record<string, number>> = {
  AES_256: 32, AES_128: 16, SM4: 16, HMAC_256: 32, HMAC_384: 48, HMAC_512: 64, HMAC_SM3: 32,
};

/** Every Huawei body may carry the optional `sequence` (a request serial number, not interpreted). */
const body = (properties: Record<string, unknown>, required: string[]) => objectSchema({ ...properties, sequence: ignored(SEQUENCE_SCHEMA, 'a request serial number') }, required);

/** message / signature / mac fields: base64 of 1..4096 bytes. */
const MESSAGE_SCHEMA = { ...BASE64_SCHEMA, maxLength: 5464 } as const;
/** additional_authenticated_data: any string of at most 128 bytes, its UTF-8 the associated data. */
const AAD_SCHEMA = { type: 'string', maxLength: 128 } as const;
const HEX_SCHEMA = { type: 'string', minLength: 2, maxLength: 4096, pattern: '^(?:[0-9a-fA-F]{2})+$' } as const;
const ENTERPRISE_PROJECT = ignored({ type: 'string', maxLength: 64 }, 'no enterprise projects: one key space per tenant');
const PIN = ignored({ type: 'string', maxLength: 64 }, 'data-key PINs are for level-4 assessment HSMs only');
const PIN_TYPE = ignored({ type: 'string', maxLength: 64 }, 'data-key PINs are for level-4 assessment HSMs only');

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');
const ms = (seconds: number | undefined | null) => (seconds ? String(seconds * 1000) : '');
/** The AAD of a request's additional_authenticated_data, as engine input. */
const withAad = (b: Body) => (b.additional_authenticated_data ? { aad: new Uint8Array(Buffer.from(b.additional_authenticated_data, 'utf8')) } : {});

/** KeyDetails with every field of the SDK's model (and our key_check_value). */
export function keyDetails(m: KeyMetadata) {
  return {
    key_id: m.keyId,
    domain_id: m.tenant,
    key_alias: m.alias ?? '',
    realm: HUAWEI_REGION,
    key_spec: huaweiSpec(m.keySpec),
    key_usage: m.keyUsage,
    key_description: m.description ?? '',
    creation_date: String(m.createdAt * 1000),
    scheduled_deletion_date: ms(m.deletionDate),
    key_state: HUAWEI_KEY_STATE[m.state],
    // A customer master key (never a service's default key), of type 1 as Huawei's examples show.
    default_key_flag: '0',
    key_type: '1',
    expiration_time: ms(m.materialExpiresAt),
    origin: m.origin === 'EXTERNAL' ? 'external' : 'kms',
    key_rotation_enabled: 'false',
    sys_enterprise_project_id: '0',
    keystore_id: '',
    key_check_value: m.keyCheckValue ?? '',
  };
}

const keyOnly = body({ key_id: KEY_ID_SCHEMA }, ['key_id']);
const keyStatus = (m: KeyMetadata) => ({ key_id: m.keyId, key_state: HUAWEI_KEY_STATE[m.state] });

// The default message_type is DIGEST, as Huawei's models declare it.
const signFields = {
  key_id: KEY_ID_SCHEMA, message: MESSAGE_SCHEMA, signing_algorithm: { type: 'string', maxLength: 64 },
  message_type: { type: 'string', enum: ['RAW', 'DIGEST'] },
};
const signInput = (tenant: string, b: Body) => ({
  tenant, keyId: b.key_id, message: bytes(b.message), signingAlgorithm: b.signing_algorithm, messageType: b.message_type ?? 'DIGEST',
});
const macFields = { key_id: KEY_ID_SCHEMA, message: MESSAGE_SCHEMA, mac_algorithm: { type: 'string', maxLength: 64 } };

/** A data key's size: datakey_length (bits) wins over key_spec; neither is 256 bits. */
function dataKeyBytes(b: Body): number {
  if (b.datakey_length !== undefined) {
    const bits = toInteger(b.datakey_length, 8, 8192, 'datakey_length');
    if (bits % 8 !== 0) throw new ByokError('INVALID_PARAMETER', 'datakey_length must be a multiple of 8.');
    return bits / 8;
  }
  return DATA_KEY_SPEC_BYTES[b.key_spec ?? 'AES_256']!;
}

const dataKeyFields = {
  key_id: KEY_ID_SCHEMA, key_spec: { type: 'string', enum: Object.keys(DATA_KEY_SPEC_BYTES) }, datakey_length: integerLike(8, 8192),
  additional_authenticated_data: AAD_SCHEMA, pin: PIN, pin_type: PIN_TYPE,
};

const dataKey = (withPlaintext: boolean) => async (engine: Parameters<Operation['run']>[0], tenant: string, b: Body) => {
  const r = await engine.generateDataKey({ tenant, keyId: b.key_id, numberOfBytes: dataKeyBytes(b), ...withAad(b), withPlaintext });
  try {
    return { key_id: r.keyId, ...(r.plaintext ? { plain_text: hex(r.plaintext) } : {}), cipher_text: hex(r.ciphertextBlob) };
  } finally {
    if (r.plaintext) zeroize(r.plaintext);
  }
};

export const HUAWEI_OPERATIONS: readonly Operation[] = [
  op('create-key', body({
    key_alias: { type: 'string', pattern: '^[a-zA-Z0-9:/_-]{1,255}$' },
    key_spec: { type: 'string', enum: KEY_SPEC_NAMES },
    key_usage: { type: 'string', enum: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC'] },
    key_description: { type: 'string', maxLength: 255 },
    origin: { type: 'string', enum: ['kms', 'external'] },
    enterprise_project_id: ENTERPRISE_PROJECT,
    keystore_id: ignored(SHORT_STRING_SCHEMA, 'one keystore: the service\'s backend'),
    vm_id: ignored(SHORT_STRING_SCHEMA, 'no dedicated HSM instances'),
  }, ['key_alias']), async (engine, tenant, b) => {
    const keySpec = parseMaterialSpec(b.key_spec ?? 'AES_256');
    if (b.key_usage !== undefined && b.key_usage !== MATERIAL_SPECS[keySpec].usage) {
      throw new ByokError('INVALID_PARAMETER', `A ${b.key_spec ?? 'AES_256'} key has key_usage ${MATERIAL_SPECS[keySpec].usage}.`);
    }
    const m = await engine.createKey({
      tenant, alias: b.key_alias, origin: b.origin === 'external' ? 'EXTERNAL' : 'KMS', keySpec,
      ...(b.key_description !== undefined ? { description: b.key_description } : {}),
    });
    return { key_info: { key_id: m.keyId, domain_id: tenant, region_id: HUAWEI_REGION } };
  }),

  op('get-parameters-for-import', body({
    key_id: KEY_ID_SCHEMA, wrapping_algorithm: WRAPPING_ALGORITHM_SCHEMA, wrapping_key_spec: WRAPPING_KEY_SPEC_SCHEMA,
  }, ['key_id', 'wrapping_algorithm']), async (engine, tenant, b) => {
    const p = await engine.getParametersForImport({
      tenant, keyId: b.key_id, wrappingAlgorithm: b.wrapping_algorithm,
      ...(b.wrapping_key_spec !== undefined ? { wrappingKeySpec: b.wrapping_key_spec } : {}),
    });
    return { key_id: p.keyId, import_token: p.importToken, expiration_time: p.expirationTime, public_key: p.publicKey };
  }, { limit: 'getParametersForImport' }),

  op('import-key-material', body({
    key_id: KEY_ID_SCHEMA, import_token: TOKEN_SCHEMA, encrypted_key_material: BASE64_SCHEMA,
    // The seeds say {200,6144} characters, but an EC P-256 key wraps to 192: any canonical base64.
    encrypted_privatekey: BASE64_SCHEMA, expiration_time: EPOCH_SECONDS_SCHEMA,
  }, ['key_id', 'import_token', 'encrypted_key_material']), async (engine, tenant, b) => {
    await engine.importKeyMaterial({
      tenant, keyId: b.key_id, importToken: b.import_token, encryptedKeyMaterial: b.encrypted_key_material,
      ...(b.encrypted_privatekey !== undefined ? { encryptedPrivateKey: b.encrypted_privatekey } : {}),
      ...(b.expiration_time !== undefined ? { expirationTime: b.expiration_time } : {}),
    });
    return {};
  }, { metric: 'import', limit: 'importKeyMaterial' }),

  op('delete-imported-key-material', keyOnly, async (engine, tenant, b) => {
    await engine.deleteKeyMaterial({ tenant, keyId: b.key_id });
    return {};
  }),

  op('describe-key', keyOnly, async (engine, tenant, b) => ({
    key_info: keyDetails(await engine.describeKey({ tenant, keyId: b.key_id })),
  })),

  op('list-keys', body({
    limit: integerLike(1, 1000), marker: { type: 'string', maxLength: 1024 },
    key_state: { type: 'string', enum: Object.values(HUAWEI_KEY_STATE).concat('1') },
    key_spec: { type: 'string', enum: [...KEY_SPEC_NAMES, 'ALL'] }, enterprise_project_id: ENTERPRISE_PROJECT,
  }, []), async (engine, tenant, b) => {
    // key_state 1 (waiting for activation) is a state no key here is ever in: an empty page.
    if (b.key_state === '1') return { keys: [], key_details: [], next_marker: '', truncated: 'false', total: 0 };
    // key_spec defaults to AES_256, as Huawei's models say; ALL lists every spec.
    const spec = b.key_spec ?? 'AES_256';
    const page = await engine.listKeys({
      tenant, ...(b.limit !== undefined ? { limit: toInteger(b.limit, 1, 1000, 'limit') } : {}), ...(b.marker ? { marker: b.marker } : {}),
      ...(b.key_state !== undefined ? { keyState: STATE_OF_CODE[b.key_state] } : {}), ...(spec !== 'ALL' ? { keySpec: parseMaterialSpec(spec) } : {}),
    });
    return {
      keys: page.keys.map((k) => k.keyId), key_details: page.keys.map(keyDetails), next_marker: page.nextMarker ?? '',
      truncated: String(page.truncated), total: page.total,
    };
  }),

  ...([['enable-key', 'enableKey'], ['disable-key', 'disableKey']] as const).map(([name, call]) => op(name, keyOnly, async (engine, tenant, b) => ({
    key_info: keyStatus(await engine[call]({ tenant, keyId: b.key_id })),
  }))),

  op('schedule-key-deletion', body({ key_id: KEY_ID_SCHEMA, pending_days: integerLike(7, 1096) }, ['key_id', 'pending_days']), async (engine, tenant, b) => (
    keyStatus(await engine.scheduleKeyDeletion({ tenant, keyId: b.key_id, pendingDays: toInteger(b.pending_days, 7, 1096, 'pending_days') }))
  )),

  op('cancel-key-deletion', keyOnly, async (engine, tenant, b) => keyStatus(await engine.cancelKeyDeletion({ tenant, keyId: b.key_id }))),

  op('create-datakey', body(dataKeyFields, ['key_id']), dataKey(true)),
  op('create-datakey-without-plaintext', body(dataKeyFields, ['key_id']), dataKey(false)),

  // A data key of the caller's own, sent as hex(DEK ‖ digest(DEK)): SHA-256 under an AES key, SM3 under SM4.
  op('encrypt-datakey', body({
    key_id: KEY_ID_SCHEMA, plain_text: HEX_SCHEMA, datakey_plain_length: integerLike(1, 1024), additional_authenticated_data: AAD_SCHEMA,
    pin: PIN, pin_type: PIN_TYPE, key_spec: ignored({ type: 'string', enum: ['SM2', 'RSA'] }, 'for level-4 assessment HSMs only'),
  }, ['key_id', 'plain_text', 'datakey_plain_length']), async (engine, tenant, b) => {
    const length = toInteger(b.datakey_plain_length, 1, 1024, 'datakey_plain_length');
    const sent = new Uint8Array(Buffer.from(b.plain_text, 'hex'));
    const dataKey = sent.subarray(0, length);
    try {
      const { keySpec } = await engine.describeKey({ tenant, keyId: b.key_id });
      const digest = createHash(keySpec === 'SM4_128' ? 'sm3' : 'sha256').update(dataKey).digest();
      if (sent.length !== length + 32 || !timingSafeEqual(digest, sent.subarray(length))) {
        throw new ByokError('INVALID_PARAMETER', 'plain_text must be the data key of datakey_plain_length bytes and its 32-byte digest, in hex.');
      }
      const r = await engine.encrypt({ tenant, keyId: b.key_id, plaintext: dataKey, ...withAad(b) });
      return { key_id: r.keyId, cipher_text: hex(r.ciphertextBlob), datakey_length: String(length) };
    } finally {
      zeroize(sent);
    }
  }),

  op('decrypt-datakey', body({
    key_id: KEY_ID_SCHEMA, cipher_text: HEX_SCHEMA,
    datakey_cipher_length: ignored(integerLike(1, 1024), 'cipher_text is the engine\'s blob, which carries its own length'),
    additional_authenticated_data: AAD_SCHEMA,
  }, ['key_id', 'cipher_text']), async (engine, tenant, b) => {
    const r = await engine.decrypt({ tenant, keyId: b.key_id, ciphertextBlob: new Uint8Array(Buffer.from(b.cipher_text, 'hex')), ...withAad(b) });
    try {
      return { data_key: hex(r.plaintext), datakey_length: String(r.plaintext.length), datakey_dgst: createHash('sha256').update(r.plaintext).digest('hex') };
    } finally {
      zeroize(r.plaintext);
    }
  }),

  op('gen-random', body({ random_data_length: integerLike(8, 8192) }, ['random_data_length']), async (engine, _tenant, b) => {
    const bits = toInteger(b.random_data_length, 8, 8192, 'random_data_length');
    if (bits % 8 !== 0) throw new ByokError('INVALID_PARAMETER', 'random_data_length must be a multiple of 8.');
    return { random_data: hex(await engine.generateRandom(bits / 8)) };
  }),

  op('encrypt-data', body({
    key_id: KEY_ID_SCHEMA, plain_text: { type: 'string', minLength: 1, maxLength: 4096 },
    encryption_algorithm: { type: 'string', enum: ['SYMMETRIC_DEFAULT'] }, additional_authenticated_data: AAD_SCHEMA,
  }, ['key_id', 'plain_text']), async (engine, tenant, b) => {
    const plaintext = new Uint8Array(Buffer.from(b.plain_text, 'utf8'));
    try {
      const r = await engine.encrypt({ tenant, keyId: b.key_id, plaintext, ...withAad(b) });
      return { key_id: r.keyId, cipher_text: b64(r.ciphertextBlob) };
    } finally {
      zeroize(plaintext);
    }
  }),

  op('decrypt-data', body({
    cipher_text: BASE64_SCHEMA, key_id: KEY_ID_SCHEMA, encryption_algorithm: { type: 'string', enum: ['SYMMETRIC_DEFAULT'] },
    additional_authenticated_data: AAD_SCHEMA,
  }, ['cipher_text']), async (engine, tenant, b) => {
    const r = await engine.decrypt({ tenant, ciphertextBlob: bytes(b.cipher_text), ...(b.key_id !== undefined ? { keyId: b.key_id } : {}), ...withAad(b) });
    const plain = asBuffer(r.plaintext);
    try {
      return { key_id: r.keyId, plain_text: plain.toString('utf8'), plain_text_base64: plain.toString('base64') };
    } finally {
      zeroize(r.plaintext);
    }
  }),

  op('get-publickey', keyOnly, async (engine, tenant, b) => {
    const r = await engine.getPublicKey({ tenant, keyId: b.key_id });
    return { key_id: r.keyId, key_spec: huaweiSpec(r.keySpec), public_key: r.publicKey, signing_algorithms: r.signingAlgorithms };
  }),

  op('sign', body(signFields, ['key_id', 'message', 'signing_algorithm']), async (engine, tenant, b) => {
    const r = await engine.sign(signInput(tenant, b));
    return { key_id: r.keyId, signature: b64(r.signature) };
  }),

  op('verify', body({ ...signFields, signature: BASE64_SCHEMA }, ['key_id', 'message', 'signing_algorithm', 'signature']), async (engine, tenant, b) => {
    const r = await engine.verify({ ...signInput(tenant, b), signature: bytes(b.signature) });
    return { key_id: r.keyId, signature_valid: String(r.signatureValid) };
  }),

  op('generate-mac', body(macFields, ['key_id', 'message']), async (engine, tenant, b) => {
    const r = await engine.generateMac({ tenant, keyId: b.key_id, message: bytes(b.message), ...(b.mac_algorithm !== undefined ? { macAlgorithm: b.mac_algorithm } : {}) });
    return { key_id: r.keyId, mac_algorithm: r.macAlgorithm, mac: b64(r.mac) };
  }),

  op('verify-mac', body({ ...macFields, mac: BASE64_SCHEMA }, ['key_id', 'message', 'mac']), async (engine, tenant, b) => {
    const r = await engine.verifyMac({ tenant, keyId: b.key_id, message: bytes(b.message), mac: bytes(b.mac), ...(b.mac_algorithm !== undefined ? { macAlgorithm: b.mac_algorithm } : {}) });
    return { key_id: r.keyId, mac_valid: String(r.macValid) };
  }),
];
