/**
 * The Tencent Cloud style action dialect: POST / with X-TC-Action, PascalCase bodies, responses
 * {"Response": {..., "RequestId"}} and errors {"Response": {"Error": {"Code", "Message"},
 * "RequestId"}} with the seeds' codes. Like the real API, errors travel with HTTP 200.
 * Authentication here is a bearer token (TC3 request signing is out of scope for a local KMS).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ImportEngine } from '../engine/import-engine.js';
import type { KeyMetadata } from '../engine/types.js';
import type { AuthTokens } from './auth.js';
import type { Metrics } from './metrics.js';
import { BASE64_SCHEMA, KEY_ID_SCHEMA, mapError, TENCENT_KEY_STATE, TOKEN_SCHEMA } from './wire.js';

const body = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', additionalProperties: false, required, properties });

function keyMetadata(m: KeyMetadata) {
  return {
    KeyId: m.keyId, Alias: m.alias ?? '', Description: m.description ?? '', CreateTime: m.createdAt,
    KeyState: TENCENT_KEY_STATE[m.state], KeyUsage: 'ENCRYPT_DECRYPT', Type: m.origin === 'EXTERNAL' ? 2 : 1,
    Origin: m.origin === 'EXTERNAL' ? 'EXTERNAL' : 'TENCENT_KMS', DeletionDate: m.deletionDate ?? 0,
    ValidTo: m.materialExpiresAt ?? 0, KeyCheckValue: m.keyCheckValue ?? '',
  };
}

export const TC_ACTION_HEADER = 'x-tc-action';

/** Routes one POST / per action, chosen by the X-TC-Action header (a fastify route constraint). */
export const tencentActionConstraint = {
  name: 'tcAction',
  storage() {
    const handlers = new Map<string, unknown>();
    return { get: (v: string) => (handlers.get(v) ?? null) as never, set: (v: string, s: unknown) => void handlers.set(v, s) };
  },
  validate(value: unknown) {
    if (typeof value !== 'string') throw new Error('tcAction constraint must be a string');
  },
  deriveConstraint: (req: { headers: Record<string, string | string[] | undefined> }) => req.headers[TC_ACTION_HEADER] as string,
  mustMatchWhenDerived: true,
};

export function tencentBearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
}

export function registerTencentActions(app: FastifyInstance, deps: { engine: ImportEngine; auth: AuthTokens; metrics: Metrics }): void {
  const { engine, auth, metrics } = deps;
  type Handler = (tenant: string, b: Record<string, any>) => Promise<Record<string, unknown>>;
  const action = (name: string, schema: object, handler: Handler) => {
    app.post('/', {
      constraints: { tcAction: name }, schema: { body: schema }, config: { dialect: 'tencent', action: name },
      onRequest: async (req: FastifyRequest) => {
        req.tenant = auth.tenantOf(tencentBearer(req));
      },
    },
      async (req: FastifyRequest, reply: FastifyReply) => {
        const result = await handler(req.tenant, req.body as Record<string, any>);
        metrics.countRequest('tencent', name, 200);
        return reply.send({ Response: { ...result, RequestId: req.id } });
      });
  };

  action('CreateKey', body({
    Alias: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,60}$' }, Description: { type: 'string', maxLength: 1024 },
    KeyUsage: { type: 'string', enum: ['ENCRYPT_DECRYPT'] }, Type: { type: 'integer', enum: [1, 2] },
  }, ['Alias']), async (tenant, b) => {
    const m = await engine.createKey({ tenant, alias: b.Alias, origin: b.Type === 2 ? 'EXTERNAL' : 'KMS', ...(b.Description !== undefined ? { description: b.Description } : {}) });
    return { KeyId: m.keyId, Alias: m.alias ?? '', CreateTime: m.createdAt, Description: m.description ?? '', KeyState: TENCENT_KEY_STATE[m.state], KeyUsage: 'ENCRYPT_DECRYPT' };
  });

  action('GetParametersForImport', body({
    KeyId: KEY_ID_SCHEMA, WrappingAlgorithm: { type: 'string', enum: ['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE', 'SM2_ENCRYPT'] },
    WrappingKeySpec: { type: 'string', enum: ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] },
  }, ['KeyId', 'WrappingAlgorithm', 'WrappingKeySpec']), async (tenant, b) => {
    const p = await engine.getParametersForImport({ tenant, keyId: b.KeyId, wrappingAlgorithm: b.WrappingAlgorithm, wrappingKeySpec: b.WrappingKeySpec });
    return { KeyId: p.keyId, ImportToken: p.importToken, PublicKey: p.publicKey, ParametersValidTo: p.expirationTime };
  });

  action('ImportKeyMaterial', body({
    KeyId: KEY_ID_SCHEMA, ImportToken: TOKEN_SCHEMA, EncryptedKeyMaterial: BASE64_SCHEMA, ValidTo: { type: 'integer', minimum: 0 },
  }, ['KeyId', 'ImportToken', 'EncryptedKeyMaterial']), async (tenant, b) => {
    const started = process.hrtime.bigint();
    try {
      await engine.importKeyMaterial({ tenant, keyId: b.KeyId, importToken: b.ImportToken, encryptedKeyMaterial: b.EncryptedKeyMaterial, ...(b.ValidTo !== undefined ? { expirationTime: b.ValidTo } : {}) });
    } finally {
      metrics.observeImport(Number(process.hrtime.bigint() - started) / 1e9);
    }
    return {};
  });

  action('DeleteImportedKeyMaterial', body({ KeyId: KEY_ID_SCHEMA }, ['KeyId']), async (tenant, b) => {
    await engine.deleteKeyMaterial({ tenant, keyId: b.KeyId });
    return {};
  });

  action('DescribeKey', body({ KeyId: KEY_ID_SCHEMA }, ['KeyId']), async (tenant, b) => ({ KeyMetadata: keyMetadata(await engine.describeKey({ tenant, keyId: b.KeyId })) }));

  for (const [name, op] of [['EnableKey', 'enableKey'], ['DisableKey', 'disableKey']] as const) {
    action(name, body({ KeyId: KEY_ID_SCHEMA }, ['KeyId']), async (tenant, b) => {
      await engine[op]({ tenant, keyId: b.KeyId });
      return {};
    });
  }

  action('Encrypt', body({ KeyId: KEY_ID_SCHEMA, Plaintext: BASE64_SCHEMA }, ['KeyId', 'Plaintext']), async (tenant, b) => {
    const r = await engine.encrypt({ tenant, keyId: b.KeyId, plaintext: Buffer.from(b.Plaintext, 'base64') });
    return { KeyId: r.keyId, CiphertextBlob: Buffer.from(r.ciphertextBlob).toString('base64') };
  });

  action('Decrypt', body({ CiphertextBlob: BASE64_SCHEMA }, ['CiphertextBlob']), async (tenant, b) => {
    const r = await engine.decrypt({ tenant, ciphertextBlob: Buffer.from(b.CiphertextBlob, 'base64') });
    return { KeyId: r.keyId, Plaintext: Buffer.from(r.plaintext).toString('base64') };
  });
}

export function tencentErrorBody(e: unknown, requestId: string, override?: { code: string; message: string }) {
  const m = mapError(e);
  return { code: m.code, body: { Response: { Error: { Code: override?.code ?? m.tencent, Message: override?.message ?? m.message }, RequestId: requestId } } };
}
