/**
 * The service's request parsing, end to end in process (fastify inject on the real app over a
 * memory-store engine). Byte 0 picks dialect, action, credentials and content type; the rest is
 * the body text. Placeholders in the body are replaced with live values, so seeds can name real
 * keys and a valid token: @K0/@K1 (external AES_256 / SM4_128 keys), @T0 (an SM2 import token
 * for @K0), @M0 (32-byte material wrapped for it).
 *
 * A crash: any 500 / InternalError (a non-ByokError reached the error handler), a response
 * carrying a stack frame, or an "internal error" log line.
 */
import { pino } from 'pino';
import { wrapMaterial } from '../../../src/client/wrap.js';
import { openEngine } from '../../../src/open-engine.js';
import { buildServer } from '../../../src/server/app.js';
import { AuthTokens } from '../../../src/server/auth.js';
import { check } from '../expect.js';
import { TOKEN_KEY, TOKEN_KEY_ID } from '../fixtures.js';

export const maxLen = 8192;

const HUAWEI = ['create-key', 'get-parameters-for-import', 'import-key-material', 'delete-imported-key-material', 'describe-key', 'enable-key', 'disable-key', 'encrypt-data', 'decrypt-data', 'no-such-action'];
const TENCENT = ['CreateKey', 'GetParametersForImport', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'DescribeKey', 'EnableKey', 'DisableKey', 'Encrypt', 'Decrypt', 'NoSuchAction'];
export const dictionary = [
  ...HUAWEI.map((a) => `"${a}"`), '"key_id"', '"import_token"', '"encrypted_key_material"', '"wrapping_algorithm"', '"wrapping_key_spec"', '"expiration_time"',
  '"sequence"', '"key_alias"', '"key_spec"', '"origin"', '"plain_text"', '"cipher_text"', '"KeyId"', '"ImportToken"', '"EncryptedKeyMaterial"', '"ValidTo"',
  '"WrappingAlgorithm"', '"WrappingKeySpec"', '"Alias"', '"Type"', '"Plaintext"', '"CiphertextBlob"', '"SM2_ENCRYPT"', '"SM2PKE"', '"RSAES_PKCS1_V1_5"',
  '"SM2"', '"external"', '"@K0"', '"@K1"', '"@T0"', '"@M0"', '{}', '[]', 'null', 'true', '-1', '2147443200', '1e308', '"\\u0000"', '"__proto__"', '"constructor"',
];

const lines: string[] = [];
const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
const engine = await openEngine({
  store: 'memory',
  keys: { master: [{ id: 'mk', key: new Uint8Array(32).fill(1) }], tokenSealing: [{ id: TOKEN_KEY_ID, key: TOKEN_KEY }], commitment: new Uint8Array(32).fill(2) },
  // A high budget: the fuzzer's failed imports must not retire the live token.
  tokenFailureBudget: 1_000_000_000,
});
const { app } = buildServer({ engine, auth: new AuthTokens(new Map([['tok-a', 'tenant-a'], ['tok-b', 'tenant-b']])), logger });
await app.ready();
const k0 = await engine.createKey({ tenant: 'tenant-a', origin: 'EXTERNAL', materialSpec: 'AES_256' });
const k1 = await engine.createKey({ tenant: 'tenant-a', origin: 'EXTERNAL', materialSpec: 'SM4_128' });
const params = await engine.getParametersForImport({ tenant: 'tenant-a', keyId: k0.keyId, wrappingAlgorithm: 'SM2_ENCRYPT' });
const m0 = Buffer.from(wrapMaterial({ publicKey: params.publicKey, algorithm: 'SM2_ENCRYPT', material: new Uint8Array(32).fill(0x5a) })).toString('base64');
const LIVE: Array<[string, string]> = [['@K0', k0.keyId], ['@K1', k1.keyId], ['@T0', params.importToken], ['@M0', m0]];

const FRAME = /\n\s+at\s|node:internal|\/dist\/src\//;

export async function fuzz(data: Buffer): Promise<void> {
  if (data.length === 0) return;
  const sel = data[0];
  let payload = data.subarray(1).toString('utf8');
  for (const [k, v] of LIVE) payload = payload.split(k).join(v);
  const tencent = (sel & 1) === 1;
  const action = (tencent ? TENCENT : HUAWEI)[(sel >> 1) % 10];
  const auth = (sel >> 5) & 3; // 0, 1: tenant-a; 2: tenant-b (wrong tenant); 3: none
  const contentType = (sel & 0x80) === 0 ? 'application/json' : 'text/plain';
  const headers: Record<string, string> = { 'content-type': contentType };
  if (auth < 3) {
    const token = auth === 2 ? 'tok-b' : 'tok-a';
    if (tencent) headers.authorization = `Bearer ${token}`;
    else headers['x-auth-token'] = token;
  }
  if (tencent) headers['x-tc-action'] = action;
  lines.length = 0;
  const res = await app.inject({ method: 'POST', url: tencent ? '/' : `/v1.0/proj/kms/${action}`, headers, payload });
  const body = res.body;
  check(res.statusCode !== 500, `HTTP 500 for ${action}: ${body}`);
  check(!body.includes('"KMS.0500"') && !body.includes('"InternalError"'), `internal error for ${action}: ${body}`);
  check(!FRAME.test(body), `response carries a stack frame: ${body}`);
  const log = lines.join('');
  check(!log.includes('"msg":"internal error"'), `internal error logged for ${action}: ${log.slice(0, 2000)}`);
}
