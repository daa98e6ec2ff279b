/**
 * The Tencent Cloud style action dialect: POST / with X-TC-Action, PascalCase bodies, responses
 * {"Response": {..., "RequestId"}} and errors {"Response": {"Error": {"Code", "Message"},
 * "RequestId"}} with the seeds' codes. Like the real API, errors travel with HTTP 200.
 * Authentication is a bearer token (TC3 request signing is out of scope for a local KMS).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { zeroize } from '../bytes.js';
import type { KeyMetadata } from '../engine/types.js';
import { withRequestContext } from './audit.js';
import type { RouteDeps } from './huawei-routes.js';
import {
  BASE64_SCHEMA, KEY_ID_SCHEMA, objectSchema, TENCENT_VALID_TO_SCHEMA, TENCENT_WRAPPING_ALGORITHM_SCHEMA, TOKEN_SCHEMA,
  WRAPPING_KEY_SPEC_SCHEMA,
} from './schemas.js';
import { mapError, TENCENT_KEY_STATE } from './wire.js';

export const TC_ACTION_HEADER = 'x-tc-action';

function keyMetadata(m: KeyMetadata) {
  return {
    KeyId: m.keyId, Alias: m.alias ?? '', Description: m.description ?? '', CreateTime: m.createdAt,
    KeyState: TENCENT_KEY_STATE[m.state], KeyUsage: 'ENCRYPT_DECRYPT', Type: m.origin === 'EXTERNAL' ? 2 : 1,
    Origin: m.origin === 'EXTERNAL' ? 'EXTERNAL' : 'TENCENT_KMS', DeletionDate: m.deletionDate ?? 0,
    ValidTo: m.materialExpiresAt ?? 0, KeyCheckValue: m.keyCheckValue ?? '',
  };
}

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- validated by the action's schema
type Body = Record<string, any>;

export function registerTencentActions(app: FastifyInstance, deps: RouteDeps): void {
  const { engine, auth, metrics } = deps;
  const action = (name: string, schema: object, handler: (tenant: string, b: Body) => Promise<Record<string, unknown>>) => {
    app.post('/', {
      constraints: { tcAction: name }, schema: { body: schema }, config: { dialect: 'tencent', action: name },
      onRequest: async (req: FastifyRequest) => {
        req.tenant = auth.tenantOf(tencentBearer(req));
      },
    }, async (req: FastifyRequest, reply: FastifyReply) => {
      const result = await withRequestContext({ requestId: req.id, dialect: 'tencent', action: name }, () => handler(req.tenant, req.body as Body));
      metrics.countRequest('tencent', name, 200);
      return reply.send({ Response: { ...result, RequestId: req.id } });
    });
  };

  action('CreateKey', objectSchema({
    Alias: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,60}$' }, Description: { type: 'string', maxLength: 1024 },
    KeyUsage: { type: 'string', enum: ['ENCRYPT_DECRYPT'] }, Type: { type: 'integer', enum: [1, 2] },
  }, ['Alias']), async (tenant, b) => {
    const m = await engine.createKey({
      tenant, alias: b.Alias, origin: b.Type === 2 ? 'EXTERNAL' : 'KMS', ...(b.Description !== undefined ? { description: b.Description } : {}),
    });
    return { KeyId: m.keyId, Alias: m.alias ?? '', CreateTime: m.createdAt, Description: m.description ?? '', KeyState: TENCENT_KEY_STATE[m.state], KeyUsage: 'ENCRYPT_DECRYPT' };
  });

  action('GetParametersForImport', objectSchema({
    KeyId: KEY_ID_SCHEMA, WrappingAlgorithm: TENCENT_WRAPPING_ALGORITHM_SCHEMA, WrappingKeySpec: WRAPPING_KEY_SPEC_SCHEMA,
  }, ['KeyId', 'WrappingAlgorithm', 'WrappingKeySpec']), async (tenant, b) => {
    const p = await engine.getParametersForImport({ tenant, keyId: b.KeyId, wrappingAlgorithm: b.WrappingAlgorithm, wrappingKeySpec: b.WrappingKeySpec });
    return { KeyId: p.keyId, ImportToken: p.importToken, PublicKey: p.publicKey, ParametersValidTo: p.expirationTime };
  });

  action('ImportKeyMaterial', objectSchema({
    KeyId: KEY_ID_SCHEMA, ImportToken: TOKEN_SCHEMA, EncryptedKeyMaterial: BASE64_SCHEMA, ValidTo: TENCENT_VALID_TO_SCHEMA,
  }, ['KeyId', 'ImportToken', 'EncryptedKeyMaterial']), async (tenant, b) => {
    const started = process.hrtime.bigint();
    try {
      await engine.importKeyMaterial({
        tenant, keyId: b.KeyId, importToken: b.ImportToken, encryptedKeyMaterial: b.EncryptedKeyMaterial,
        ...(b.ValidTo !== undefined ? { expirationTime: Number(b.ValidTo) } : {}),
      });
    } finally {
      metrics.observeImport(Number(process.hrtime.bigint() - started) / 1e9);
    }
    return {};
  });

  action('DeleteImportedKeyMaterial', objectSchema({ KeyId: KEY_ID_SCHEMA }, ['KeyId']), async (tenant, b) => {
    await engine.deleteKeyMaterial({ tenant, keyId: b.KeyId });
    return {};
  });

  action('DescribeKey', objectSchema({ KeyId: KEY_ID_SCHEMA }, ['KeyId']), async (tenant, b) => ({
    KeyMetadata: keyMetadata(await engine.describeKey({ tenant, keyId: b.KeyId })),
  }));

  for (const [name, op] of [['EnableKey', 'enableKey'], ['DisableKey', 'disableKey']] as const) {
    action(name, objectSchema({ KeyId: KEY_ID_SCHEMA }, ['KeyId']), async (tenant, b) => {
      await engine[op]({ tenant, keyId: b.KeyId });
      return {};
    });
  }

  action('Encrypt', objectSchema({ KeyId: KEY_ID_SCHEMA, Plaintext: BASE64_SCHEMA }, ['KeyId', 'Plaintext']), async (tenant, b) => {
    const plaintext = new Uint8Array(Buffer.from(b.Plaintext, 'base64'));
    try {
      const r = await engine.encrypt({ tenant, keyId: b.KeyId, plaintext });
      return { KeyId: r.keyId, CiphertextBlob: Buffer.from(r.ciphertextBlob).toString('base64') };
    } finally {
      zeroize(plaintext);
    }
  });

  action('Decrypt', objectSchema({ CiphertextBlob: BASE64_SCHEMA }, ['CiphertextBlob']), async (tenant, b) => {
    const r = await engine.decrypt({ tenant, ciphertextBlob: new Uint8Array(Buffer.from(b.CiphertextBlob, 'base64')) });
    try {
      return { KeyId: r.keyId, Plaintext: Buffer.from(r.plaintext).toString('base64') };
    } finally {
      zeroize(r.plaintext);
    }
  });
}

export function tencentErrorBody(e: unknown, requestId: string, override?: { code: string; message: string }) {
  const m = mapError(e);
  return { mapped: m, body: { Response: { Error: { Code: override?.code ?? m.tencent, Message: override?.message ?? m.message }, RequestId: requestId } } };
}
