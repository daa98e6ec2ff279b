/**
 * The Huawei Cloud style REST dialect: POST /v1.0/{project_id}/kms/<action>, X-Auth-Token or the
 * SDKs' AK/SK signature (SDK-HMAC-SHA256),
 * snake_case bodies, errors {"error":{"error_code":"KMS.xxxx","error_msg":"..."}} with the code's
 * HTTP status. Field rules follow the seeds (key ID regex, token pattern, base64 material,
 * wrapping algorithm enumeration, 36-byte sequence).
 */
import { MATERIAL_SPECS, parseMaterialSpec, type MaterialSpec } from '../../algorithms/specs.js';
import { asBuffer, zeroize } from '../../bytes.js';
import type { KeyMetadata, KeyState } from '../../engine/types.js';
import { ByokError } from '../../errors.js';
import { authenticateHuawei } from '../signing/authenticate.js';
import { operation as op, type Body, type Dialect, type Operation } from './dialect.js';
import {
  BASE64_SCHEMA, EPOCH_SECONDS_SCHEMA, KEY_ID_SCHEMA, objectSchema, SEQUENCE_SCHEMA, TOKEN_SCHEMA,
  WRAPPING_ALGORITHM_SCHEMA, WRAPPING_KEY_SPEC_SCHEMA,
} from './schemas.js';

export const HUAWEI_AUTH_HEADER = 'x-auth-token';

/** Huawei key_state codes: 2 enabled, 3 disabled, 4 pending deletion, 5 pending import. */
export const HUAWEI_KEY_STATE: Readonly<Record<KeyState, string>> = {
  Enabled: '2', Disabled: '3', PendingDeletion: '4', PendingImport: '5',
};

/** Huawei-style KMS.xxxx codes (23xx: the import API; 0xxx: the gateway), and the gateway's APIG.0308. */
const HUAWEI_ERROR_CODES = {
  DECRYPT_MATERIAL_FAILED: 'KMS.2310',
  IMPORT_TOKEN_INVALID: 'KMS.2311',
  IMPORT_TOKEN_EXPIRED: 'KMS.2312',
  IMPORT_TOKEN_EXHAUSTED: 'KMS.2313',
  KEY_MATERIAL_MISMATCH: 'KMS.2314',
  KEY_STATE_UNSUPPORTED: 'KMS.2315',
  NOT_EXTERNAL_KEY: 'KMS.2316',
  KEY_NOT_FOUND: 'KMS.2301',
  ALIAS_EXISTS: 'KMS.2321',
  INVALID_KEY_ID: 'KMS.2302',
  INVALID_PARAMETER: 'KMS.2300',
  ALGORITHM_UNSUPPORTED: 'KMS.2317',
  INVALID_KEY_USAGE: 'KMS.2320',
  INVALID_PRIVATE_KEY: 'KMS.2318',
  CIPHERTEXT_INVALID: 'KMS.2319',
  // Huawei's verify and verify-mac answer a failed check as signature_valid / mac_valid "false".
  SIGNATURE_VERIFY_FAILED: 'KMS.2300',
  MAC_VERIFY_FAILED: 'KMS.2300',
  UNAUTHORIZED: 'KMS.0401',
  // Huawei Cloud's API gateway answers every failed AK/SK check with APIG.0301 ("Incorrect IAM
  // authentication information: …") and a caller it does not authorize with APIG.0302.
  SIGNATURE_MALFORMED: 'APIG.0301',
  SIGNATURE_EXPIRED: 'APIG.0301',
  ACCESS_KEY_UNKNOWN: 'APIG.0301',
  SIGNATURE_MISMATCH: 'APIG.0301',
  ACCESS_DENIED: 'APIG.0302',
  // Huawei Cloud's API gateway answers a throttled call with APIG.0308 ("The throttling threshold
  // has been reached"): https://support.huaweicloud.com/intl/en-us/ocr_faq/ocr_01_0041.html
  RATE_LIMITED: 'APIG.0308',
  BACKEND_UNAVAILABLE: 'KMS.0503',
  STORE_UNAVAILABLE: 'KMS.0503',
  DEPENDENCY_MISSING: 'KMS.0500',
  INTERNAL_ERROR: 'KMS.0500',
} as const;

/** Every Huawei body may carry the optional `sequence`. */
const body = (properties: Record<string, unknown>, required: string[]) => objectSchema({ ...properties, sequence: SEQUENCE_SCHEMA }, required);

const PARAMS_SCHEMA = objectSchema({ project_id: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,64}$' } }, ['project_id']);

/** Huawei's key_spec names where they differ from ours (AWS's). */
const HUAWEI_KEY_SPEC: Partial<Record<MaterialSpec, string>> = {
  SM4_128: 'SM4', ECC_NIST_P256: 'EC_P256', ECC_NIST_P384: 'EC_P384', ECC_NIST_P521: 'EC_P521', ECC_SECG_P256K1: 'EC_SECP256K1',
};
const KEY_SPEC_NAMES = [...new Set((Object.keys(MATERIAL_SPECS) as MaterialSpec[]).flatMap((s) => [s, HUAWEI_KEY_SPEC[s] ?? s]))];

/** message / signature / mac fields: base64 of 1..4096 bytes. */
const MESSAGE_SCHEMA = { ...BASE64_SCHEMA, maxLength: 5464 } as const;

function bytes(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

function keyInfo(m: KeyMetadata) {
  return {
    key_id: m.keyId,
    domain_id: m.tenant,
    key_alias: m.alias ?? '',
    key_description: m.description ?? '',
    creation_date: String(m.createdAt * 1000),
    scheduled_deletion_date: m.deletionDate !== undefined ? String(m.deletionDate * 1000) : '',
    key_state: HUAWEI_KEY_STATE[m.state],
    key_spec: HUAWEI_KEY_SPEC[m.keySpec] ?? m.keySpec,
    key_usage: m.keyUsage,
    origin: m.origin === 'EXTERNAL' ? 'external' : 'kms',
    expiration_time: m.materialExpiresAt ? String(m.materialExpiresAt * 1000) : '',
    key_check_value: m.keyCheckValue ?? '',
  };
}

const keyOnly = body({ key_id: KEY_ID_SCHEMA }, ['key_id']);

// Signing takes the raw message only: a DIGEST would let callers sign hashes we never saw.
const signFields = {
  key_id: KEY_ID_SCHEMA, message: MESSAGE_SCHEMA, signing_algorithm: { type: 'string', maxLength: 64 },
  message_type: { type: 'string', enum: ['RAW'] },
};
const macFields = { key_id: KEY_ID_SCHEMA, message: MESSAGE_SCHEMA, mac_algorithm: { type: 'string', maxLength: 64 } };

const OPERATIONS: readonly Operation[] = [
  op('create-key', body({
    key_alias: { type: 'string', pattern: '^[a-zA-Z0-9:/_-]{1,255}$' },
    key_spec: { type: 'string', enum: KEY_SPEC_NAMES },
    key_usage: { type: 'string', enum: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC'] },
    key_description: { type: 'string', maxLength: 255 },
    origin: { type: 'string', enum: ['kms', 'external'] },
    enterprise_project_id: { type: 'string', maxLength: 64 },
  }, ['key_alias']), async (engine, tenant, b) => {
    const keySpec = parseMaterialSpec(b.key_spec ?? 'AES_256');
    if (b.key_usage !== undefined && b.key_usage !== MATERIAL_SPECS[keySpec].usage) {
      throw new ByokError('INVALID_PARAMETER', `A ${b.key_spec ?? 'AES_256'} key has key_usage ${MATERIAL_SPECS[keySpec].usage}.`);
    }
    const m = await engine.createKey({
      tenant, alias: b.key_alias, origin: b.origin === 'external' ? 'EXTERNAL' : 'KMS', keySpec,
      ...(b.key_description !== undefined ? { description: b.key_description } : {}),
    });
    return { key_info: { key_id: m.keyId, domain_id: tenant } };
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
    key_info: keyInfo(await engine.describeKey({ tenant, keyId: b.key_id })),
  })),

  ...([['enable-key', 'enableKey'], ['disable-key', 'disableKey']] as const).map(([name, call]) => op(name, keyOnly, async (engine, tenant, b) => {
    const m = await engine[call]({ tenant, keyId: b.key_id });
    return { key_info: { key_id: m.keyId, key_state: HUAWEI_KEY_STATE[m.state] } };
  })),

  op('encrypt-data', body({
    key_id: KEY_ID_SCHEMA, plain_text: { type: 'string', minLength: 1, maxLength: 4096 },
    encryption_algorithm: { type: 'string', enum: ['SYMMETRIC_DEFAULT'] },
  }, ['key_id', 'plain_text']), async (engine, tenant, b) => {
    const plaintext = new Uint8Array(Buffer.from(b.plain_text, 'utf8'));
    try {
      const r = await engine.encrypt({ tenant, keyId: b.key_id, plaintext });
      return { key_id: r.keyId, cipher_text: Buffer.from(r.ciphertextBlob).toString('base64') };
    } finally {
      zeroize(plaintext);
    }
  }),

  op('get-publickey', keyOnly, async (engine, tenant, b) => {
    const r = await engine.getPublicKey({ tenant, keyId: b.key_id });
    return { key_id: r.keyId, key_spec: HUAWEI_KEY_SPEC[r.keySpec] ?? r.keySpec, public_key: r.publicKey, signing_algorithms: r.signingAlgorithms };
  }),

  op('sign', body(signFields, ['key_id', 'message', 'signing_algorithm']), async (engine, tenant, b) => {
    const r = await engine.sign({ tenant, keyId: b.key_id, message: bytes(b.message), signingAlgorithm: b.signing_algorithm });
    return { key_id: r.keyId, signature: Buffer.from(r.signature).toString('base64') };
  }),

  op('verify', body({ ...signFields, signature: BASE64_SCHEMA }, ['key_id', 'message', 'signing_algorithm', 'signature']), async (engine, tenant, b) => {
    const r = await engine.verify({ tenant, keyId: b.key_id, message: bytes(b.message), signingAlgorithm: b.signing_algorithm, signature: bytes(b.signature) });
    return { key_id: r.keyId, signature_valid: String(r.signatureValid) };
  }),

  op('generate-mac', body(macFields, ['key_id', 'message']), async (engine, tenant, b) => {
    const r = await engine.generateMac({ tenant, keyId: b.key_id, message: bytes(b.message), ...(b.mac_algorithm !== undefined ? { macAlgorithm: b.mac_algorithm } : {}) });
    return { key_id: r.keyId, mac_algorithm: r.macAlgorithm, mac: Buffer.from(r.mac).toString('base64') };
  }),

  op('verify-mac', body({ ...macFields, mac: BASE64_SCHEMA }, ['key_id', 'message', 'mac']), async (engine, tenant, b) => {
    const r = await engine.verifyMac({ tenant, keyId: b.key_id, message: bytes(b.message), mac: bytes(b.mac), ...(b.mac_algorithm !== undefined ? { macAlgorithm: b.mac_algorithm } : {}) });
    return { key_id: r.keyId, mac_valid: String(r.macValid) };
  }),

  op('decrypt-data', body({
    cipher_text: BASE64_SCHEMA, key_id: KEY_ID_SCHEMA, encryption_algorithm: { type: 'string', enum: ['SYMMETRIC_DEFAULT'] },
  }, ['cipher_text']), async (engine, tenant, b: Body) => {
    const r = await engine.decrypt({
      tenant, ciphertextBlob: new Uint8Array(Buffer.from(b.cipher_text, 'base64')), ...(b.key_id !== undefined ? { keyId: b.key_id } : {}),
    });
    const plain = asBuffer(r.plaintext);
    try {
      return { key_id: r.keyId, plain_text: plain.toString('utf8'), plain_text_base64: plain.toString('base64') };
    } finally {
      zeroize(r.plaintext);
    }
  }),
];

export const huaweiDialect = {
  /** The dialect's name (metrics, audit, WIRE_ERRORS column). */
  name: 'huawei',
  /** This API's code for every engine error code. */
  errorCodes: HUAWEI_ERROR_CODES,
  /** The operations this API serves. */
  operations: OPERATIONS,
  /** Where each operation is served. */
  route: (operation) => ({ url: `/v1.0/:project_id/kms/${operation.name}`, params: PARAMS_SCHEMA }),
  /** The caller's tenant from this API's auth header. */
  authenticate: authenticateHuawei,
  /** The body of a success. */
  success: (result) => result,
  /** The status and body of an error. */
  error: (failure) => ({ status: failure.status, body: { error: { error_code: failure.code, error_msg: failure.message } } }),
  // First in DIALECTS: it also answers whatever no dialect owns, with its REST errors.
  /** Whether an unmatched request is one of this API's. */
  owns: (req) => req.url.startsWith('/v1.0/'),
  /** The answer to a request that names no operation. */
  notFound: () => ({ status: 404, body: { error: { error_code: 'KMS.0404', error_msg: 'Not found.' } } }),
} as const satisfies Dialect<'huawei'>;
