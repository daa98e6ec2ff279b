/**
 * Issue 14 defect 2, fair use: per-tenant limits on the expensive calls, in each dialect's
 * rate-limit format. The limits are set low (2 per second) so a test can cross them. The window
 * is @fastify/rate-limit's, on Date.now(): the tests fake Date only (timers stay real), so a slow
 * machine never moves a request into the next window, and "after the window" moves the clock on
 * by the Retry-After seconds instead of sleeping.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { wrapMaterial } from '../src/client/wrap.js';
import { generateEngineKeys } from '../src/config/key-files.js';
import type { ImportEngine } from '../src/engine/import-engine.js';
import { openEngine } from '../src/open-engine.js';
import { buildServer } from '../src/server/app.js';
import { AuthTokens } from '../src/server/auth.js';

const ALGORITHM = 'RSAES_OAEP_SHA_256';
const MATERIAL = new Uint8Array(32).fill(7);
/** Small, so that a refused import that spent budget would exhaust the token. */
const FAILURE_BUDGET = 3;

let engine: ImportEngine;
let app: ReturnType<typeof buildServer>['app'];
const auth = new AuthTokens(new Map([
  ['huawei-a', 'hw-tenant-a'], ['huawei-b', 'hw-tenant-b'], ['tencent-a', 'tc-tenant-a'], ['tencent-b', 'tc-tenant-b'], ['both', 'tenant-both'],
]));

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  engine = await openEngine({ store: 'memory', keys: generateEngineKeys(), tokenFailureBudget: FAILURE_BUDGET });
  ({ app } = buildServer({ engine, auth, logger: pino({ level: 'silent' }), rateLimits: { getParametersForImport: 2, importKeyMaterial: 2 } }));
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
  vi.useRealTimers();
});

type Answer = Awaited<ReturnType<typeof app.inject>>;

/** One dialect's view of the import flow and of its rate-limit answer. */
interface DialectUnderTest {
  readonly name: string;
  createExternalKey(token: string): Promise<string>;
  getParameters(token: string, keyId: string): Promise<Answer>;
  /** The import token and public key of a successful get-parameters answer. */
  parameters(r: Answer): { importToken: string; publicKey: string };
  importMaterial(token: string, keyId: string, importToken: string, wrapped: string): Promise<Answer>;
  keyState(token: string, keyId: string): Promise<string>;
  readonly pendingImport: string;
  readonly enabled: string;
  /** The error code of an answer (undefined: a success). */
  errorCode(r: Answer): string | undefined;
  /** Checks the answer is this dialect's rate-limit format. */
  expectRateLimited(r: Answer): void;
}

const huawei: DialectUnderTest = {
  name: 'huawei',
  async createExternalKey(token) {
    const r = await hwCall(token, 'create-key', { key_alias: 'rl', origin: 'external' });
    return r.json().key_info.key_id;
  },
  getParameters: (token, keyId) => hwCall(token, 'get-parameters-for-import', { key_id: keyId, wrapping_algorithm: ALGORITHM }),
  parameters: (r) => ({ importToken: r.json().import_token, publicKey: r.json().public_key }),
  importMaterial: (token, keyId, importToken, wrapped) => hwCall(token, 'import-key-material', { key_id: keyId, import_token: importToken, encrypted_key_material: wrapped }),
  keyState: async (token, keyId) => (await hwCall(token, 'describe-key', { key_id: keyId })).json().key_info.key_state,
  pendingImport: '5',
  enabled: '2',
  errorCode: (r) => (r.statusCode === 200 ? undefined : r.json().error?.error_code ?? r.json().error_code),
  expectRateLimited(r) {
    expect(r.statusCode).toBe(429);
    // The API gateway's flat error format (APIG.*), with its request_id.
    expect(r.json()).toEqual({ error_code: 'APIG.0308', error_msg: 'Too many requests; retry later.', request_id: r.headers['x-request-id'] });
  },
};

const tencent: DialectUnderTest = {
  name: 'tencent',
  async createExternalKey(token) {
    return (await tcCall(token, 'CreateKey', { Alias: 'rl', Type: 2 })).json().Response.KeyId;
  },
  getParameters: (token, keyId) => tcCall(token, 'GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: ALGORITHM, WrappingKeySpec: 'RSA_2048' }),
  parameters: (r) => ({ importToken: r.json().Response.ImportToken, publicKey: r.json().Response.PublicKey }),
  importMaterial: (token, keyId, importToken, wrapped) => tcCall(token, 'ImportKeyMaterial', { KeyId: keyId, ImportToken: importToken, EncryptedKeyMaterial: wrapped }),
  keyState: async (token, keyId) => (await tcCall(token, 'DescribeKey', { KeyId: keyId })).json().Response.KeyMetadata.KeyState,
  pendingImport: 'PendingImport',
  enabled: 'Enabled',
  errorCode: (r) => r.json().Response.Error?.Code,
  expectRateLimited(r) {
    // Tencent answers errors with HTTP 200, in its Response.Error envelope.
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ Response: { Error: { Code: 'RequestLimitExceeded', Message: 'Too many requests; retry later.' }, RequestId: r.headers['x-request-id'] } });
  },
};

function hwCall(token: string, action: string, payload: object): Promise<Answer> {
  return app.inject({ method: 'POST', url: `/v1.0/p/kms/${action}`, headers: { 'content-type': 'application/json', 'x-auth-token': token }, payload: JSON.stringify(payload) });
}
function tcCall(token: string, action: string, payload: object): Promise<Answer> {
  return app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-tc-action': action }, payload: JSON.stringify(payload) });
}

/** Moves the clock past the window a refused answer names (Retry-After, whole seconds). */
function afterWindow(refused: Answer): void {
  const seconds = Number(refused.headers['retry-after']);
  expect(seconds).toBeGreaterThanOrEqual(1);
  vi.setSystemTime(Date.now() + seconds * 1000);
}

function expectRefusal(d: DialectUnderTest, r: Answer): void {
  d.expectRateLimited(r);
  expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(r.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
}

describe.each([huawei, tencent])('per-tenant rate limits ($name)', (d) => {
  const A = `${d.name}-a`;
  const B = `${d.name}-b`;

  it('get-parameters-for-import over the limit answers in the dialect\'s format; requests refused before authentication do not count; another tenant is served; after the window the tenant is served again', async () => {
    const [keyA, keyB] = [await d.createExternalKey(A), await d.createExternalKey(B)];
    // Unauthenticated: refused before the limit, and counted against nobody.
    for (let i = 0; i < 5; i++) expect(d.errorCode(await d.getParameters('not-a-token', keyA))).toMatch(/^(KMS\.0401|AuthFailure)$/);
    expect(d.errorCode(await d.getParameters(A, keyA))).toBeUndefined();
    expect(d.errorCode(await d.getParameters(A, keyA))).toBeUndefined();
    const refused = await d.getParameters(A, keyA);
    expectRefusal(d, refused);
    expect(d.errorCode(await d.getParameters(B, keyB))).toBeUndefined();
    afterWindow(refused);
    expect(d.errorCode(await d.getParameters(A, keyA))).toBeUndefined();
  });

  it('a refused import changes nothing: the key stays PendingImport and the token\'s failure budget is not spent', async () => {
    const keyId = await d.createExternalKey(A);
    const { importToken, publicKey } = d.parameters(await d.getParameters(A, keyId));
    const wrapped = Buffer.from(wrapMaterial({ publicKey, algorithm: ALGORITHM, material: MATERIAL })).toString('base64');
    const garbage = Buffer.from(new Uint8Array(256).fill(1)).toString('base64');
    // Two failed imports: two of the token's three attempts, and the tenant's two imports this second.
    for (let i = 0; i < 2; i++) expect(d.errorCode(await d.importMaterial(A, keyId, importToken, garbage))).toMatch(/DecryptMaterial|KMS\.2310/);
    let refused: Answer | undefined;
    for (let i = 0; i < 4; i++) {
      refused = await d.importMaterial(A, keyId, importToken, wrapped);
      expectRefusal(d, refused);
    }
    expect(await d.keyState(A, keyId)).toBe(d.pendingImport);
    afterWindow(refused!);
    // Had the refused imports spent attempts, the token would be exhausted now (2 + 4 > 3).
    expect(d.errorCode(await d.importMaterial(A, keyId, importToken, wrapped))).toBeUndefined();
    expect(await d.keyState(A, keyId)).toBe(d.enabled);
  });
});

describe('one counter per call across dialects', () => {
  it('a tenant\'s Huawei and Tencent get-parameters-for-import share one limit; imports have their own', async () => {
    const keyId = await huawei.createExternalKey('both');
    expect(huawei.errorCode(await huawei.getParameters('both', keyId))).toBeUndefined();
    expect(tencent.errorCode(await tencent.getParameters('both', keyId))).toBeUndefined();
    expectRefusal(tencent, await tencent.getParameters('both', keyId));
    expectRefusal(huawei, await huawei.getParameters('both', keyId));
    // The import limit is untouched: a wrong token is refused by the engine, not by the limit.
    expect(huawei.errorCode(await huawei.importMaterial('both', keyId, 'A'.repeat(64), 'AAAA'))).not.toBe('APIG.0308');
  });
});

describe('a limit of 0', () => {
  it('turns the limit off: every call is served', async () => {
    const { app: unlimited } = buildServer({ engine, auth, logger: pino({ level: 'silent' }), rateLimits: { getParametersForImport: 0, importKeyMaterial: 0 } });
    try {
      const keyId = (await unlimited.inject({ method: 'POST', url: '/v1.0/p/kms/create-key', headers: { 'content-type': 'application/json', 'x-auth-token': 'both' }, payload: JSON.stringify({ key_alias: 'off', origin: 'external' }) })).json().key_info.key_id;
      for (let i = 0; i < 5; i++) {
        const r = await unlimited.inject({ method: 'POST', url: '/v1.0/p/kms/get-parameters-for-import', headers: { 'content-type': 'application/json', 'x-auth-token': 'both' }, payload: JSON.stringify({ key_id: keyId, wrapping_algorithm: ALGORITHM }) });
        expect(r.statusCode).toBe(200);
      }
    } finally {
      await unlimited.close();
    }
  });
});
