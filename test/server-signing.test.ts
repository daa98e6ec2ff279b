/**
 * Request signing verified against the vendors' own signers: AWS SigV4 against AWS's published
 * example and @smithy/signature-v4 (the signer of every AWS SDK for JavaScript v3), Tencent
 * TC3-HMAC-SHA256 against tencentcloud-sdk-nodejs's Sign.sign3, Huawei SDK-HMAC-SHA256 against
 * @huaweicloud/huaweicloud-sdk-core's AKSKSigner; and each scheme's refusals.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig, serviceConfig } from '../src/config/config.js';
import { loadAuthTokens } from '../src/server/auth.js';
import { AccessKeys, parseAccessKeys, type AccessKey } from '../src/server/signing/access-keys.js';
import { canonicalQuery, signedRequestOf, type SignedRequest } from '../src/server/signing/canonical.js';
import { verifySdkHmac } from '../src/server/signing/sdk-hmac.js';
import { verifySigV4 } from '../src/server/signing/sigv4.js';
import { tc3Signature, verifyTc3 } from '../src/server/signing/tc3-hmac.js';

const require = createRequire(import.meta.url);
const TencentSign = (require('tencentcloud-sdk-nodejs/tencentcloud/common/sign.js') as { default: { sign3(o: object): string } }).default;
const { AKSKSigner } = require('@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js') as { AKSKSigner: { sign(r: object, c: object): Record<string, string> } };

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'accepted';
};

/** A request as a signer's headers and body would reach the server. */
function wire(method: string, url: string, headers: Record<string, string>, body = ''): SignedRequest {
  const rawHeaders = Object.entries(headers).flatMap(([k, v]) => [k, v]);
  return signedRequestOf({ method, url, raw: { rawHeaders } }, new Uint8Array(Buffer.from(body)));
}

describe('access keys', () => {
  it('parses ID:SECRET=tenant pairs, optionally /project; a secret may hold : and =', () => {
    expect(parseAccessKeys('AKID1:s3cr:et=team-a, AK2:c2VjcmV0==team-b/proj_1\n')).toEqual([
      { id: 'AKID1', secret: 's3cr:et', tenant: 'team-a' },
      { id: 'AK2', secret: 'c2VjcmV0=', tenant: 'team-b', projectId: 'proj_1' },
    ]);
    for (const bad of ['noseparators', 'ID:=tenant', ':secret=tenant', 'ID:secret=', 'ID:secret=bad tenant', 'ID:secret=t/p/q', 'I D:secret=t', 'ID:sec ret=t', 'ID:secret=t/p!']) {
      expect(() => parseAccessKeys(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
    }
  });

  it('finds a key by ID (every entry compared); a duplicate ID is refused', () => {
    const keys = new AccessKeys(parseAccessKeys('A:1=t1,B:2=t2'));
    expect(keys.find('B')).toEqual({ id: 'B', secret: '2', tenant: 't2' });
    expect(keys.find('C')).toBeUndefined();
    expect(keys.find('')).toBeUndefined();
    expect(() => new AccessKeys(parseAccessKeys('A:1=t1,A:2=t2'))).toThrow(/configured twice/);
  });

  const dir = mkdtempSync(join(tmpdir(), 'byok-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('come from BYOK_ACCESS_KEYS and the auth file\'s "accessKeys", one list beside the tokens', () => {
    const file = join(dir, 'auth.json');
    writeFileSync(file, JSON.stringify({ tok: 'team-t', accessKeys: { FILEKEY: { secret: 'fs', tenant: 'team-f', projectId: 'p1' } } }), { mode: 0o600 });
    const source = serviceConfig(readConfig('serve', ['--data-dir', dir, '--auth-file', file], { BYOK_ACCESS_KEYS: 'ENVKEY:es=team-e' })).auth;
    expect(source).toEqual({ file, createIfMissing: false, accessKeys: 'ENVKEY:es=team-e' });
    const { tokens } = loadAuthTokens(source);
    expect([tokens.tenantOf('tok'), tokens.accessKeys.find('FILEKEY'), tokens.accessKeys.find('ENVKEY')?.tenant]).toEqual(['team-t', { id: 'FILEKEY', secret: 'fs', tenant: 'team-f', projectId: 'p1' }, 'team-e']);
    // With BYOK_AUTH_TOKENS the file is not read; access keys alone are a valid configuration.
    const envOnly = serviceConfig(readConfig('serve', ['--data-dir', dir], { BYOK_AUTH_TOKENS: 't=x', BYOK_ACCESS_KEYS: 'K:s=y' })).auth;
    expect(loadAuthTokens(envOnly).tokens.accessKeys.find('K')?.tenant).toBe('y');
    writeFileSync(file, JSON.stringify({ accessKeys: { ENVKEY: { secret: 'other', tenant: 'team-f' } } }), { mode: 0o600 });
    expect(loadAuthTokens({ file, createIfMissing: false }).tokens.accessKeys.size).toBe(1);
    expect(() => loadAuthTokens({ file, createIfMissing: false, accessKeys: 'ENVKEY:es=team-e' })).toThrow(/configured twice/);
    for (const bad of [{ accessKeys: ['K:s=t'] }, { accessKeys: { K: { secret: 's' } } }, { accessKeys: { K: { secret: 's', tenant: 't', colour: 'red' } } }]) {
      writeFileSync(file, JSON.stringify(bad), { mode: 0o600 });
      expect(() => loadAuthTokens({ file, createIfMissing: false }), JSON.stringify(bad)).toThrow(/"accessKeys" must map/);
    }
  });
});

describe('AWS SigV4', () => {
  const key: AccessKey = { id: 'AKIDEXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', tenant: 'aws-team' };
  const keys = new AccessKeys([key]);
  const signingDate = new Date('2015-08-30T12:36:00Z');
  class Sha256 {
    private readonly h;
    constructor(secret?: Uint8Array | string) {
      this.h = secret ? createHmac('sha256', secret) : createHash('sha256');
    }
    update(d: Uint8Array | string) {
      this.h.update(d);
    }
    async digest() {
      return new Uint8Array(this.h.digest());
    }
    reset() {}
  }
  const signer = (service: string, region = 'us-east-1', applyChecksum = true, secret = key.secret) =>
    new SignatureV4({ credentials: { accessKeyId: key.id, secretAccessKey: secret }, region, service, sha256: Sha256, applyChecksum });

  interface Req { method: string; path: string; query?: Record<string, string | string[]>; headers: Record<string, string>; body?: string }
  async function signed(r: Req, s = signer('kms'), date = signingDate): Promise<SignedRequest> {
    const out = await s.sign({ protocol: 'https:', hostname: r.headers.host!, query: {}, ...r, ...(r.body !== undefined ? { body: r.body } : {}) }, { signingDate: date });
    const query = Object.entries(r.query ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)).join('&');
    return wire(r.method, r.path + (query ? `?${query}` : ''), out.headers as Record<string, string>, r.body ?? '');
  }

  it('AWS\'s published example (IAM ListUsers, "Create a signed AWS API request"): signature 5d672d79…', () => {
    const req = wire('GET', '/?Action=ListUsers&Version=2010-05-08', {
      host: 'iam.amazonaws.com', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-amz-date': '20150830T123600Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    });
    expect(verifySigV4(req, keys, signingDate.getTime(), { service: 'iam' })).toBe(key);
    expect(code(() => verifySigV4({ ...req, url: '/?Action=ListUsers&Version=2010-05-09' }, keys, signingDate.getTime(), { service: 'iam' }))).toBe('SIGNATURE_MISMATCH');
  });

  const kmsCall = (body: string, extra: Record<string, string> = {}): Req => ({
    method: 'POST', path: '/', headers: { host: 'kms.eu-west-1.amazonaws.com', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.DescribeKey', ...extra }, body,
  });

  it.each<[string, Req]>([
    ['a KMS call (JSON 1.1 body)', kmsCall('{"KeyId":"alias/x"}')],
    ['an empty body', kmsCall('')],
    ['a host with a port', { ...kmsCall('{}'), headers: { ...kmsCall('{}').headers, host: '127.0.0.1:4599' } }],
    ['header values with runs of spaces', kmsCall('{}', { 'x-amz-meta': '  a   b  c ' })],
    ['a query with repeats, reserved characters and UTF-8', { method: 'GET', path: '/', query: { b: ['2', '1'], a: 'x y+z/~', é: 'ü' }, headers: { host: 'example.amazonaws.com' } }],
    ['an encoded path with dot segments', { method: 'GET', path: '/a%20b/./c/../d//e/', headers: { host: 'example.amazonaws.com' } }],
  ])('verifies what @smithy/signature-v4 signs: %s', async (_name, r) => {
    const service = r.method === 'GET' ? 'service' : 'kms';
    const req = await signed(r, signer(service, 'eu-west-1'));
    expect(verifySigV4(req, keys, signingDate.getTime(), { service })).toBe(key);
    const unsigned = await signed(r, signer(service, 'ap-southeast-3', false));
    expect(unsigned.headers['x-amz-content-sha256']).toBeUndefined();
    expect(verifySigV4(unsigned, keys, signingDate.getTime(), { service })).toBe(key);
  });

  it('refuses: tampered body or header, wrong secret, unknown key, other service, skew, missing parts', async () => {
    const now = signingDate.getTime();
    const req = await signed(kmsCall('{"KeyId":"k"}'));
    const v = (r: SignedRequest, at = now) => code(() => verifySigV4(r, keys, at, { service: 'kms' }));
    expect(v(req)).toBe('accepted');
    expect(v({ ...req, body: new Uint8Array(Buffer.from('{"KeyId":"K"}')) })).toBe('SIGNATURE_MISMATCH'); // the declared x-amz-content-sha256 no longer matches
    const noChecksum = await signed(kmsCall('{"KeyId":"k"}'), signer('kms', 'us-east-1', false));
    expect(v({ ...noChecksum, body: new Uint8Array(Buffer.from('{"KeyId":"K"}')) })).toBe('SIGNATURE_MISMATCH');
    expect(v({ ...req, headers: { ...req.headers, 'x-amz-target': 'TrentService.Decrypt' } })).toBe('SIGNATURE_MISMATCH');
    expect(v(await signed(kmsCall('{}'), signer('kms', 'us-east-1', true, 'wrong-secret')))).toBe('SIGNATURE_MISMATCH');
    expect(v(await signed(kmsCall('{}'), signer('s3')))).toBe('SIGNATURE_MISMATCH');
    const other = new SignatureV4({ credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'x' }, region: 'us-east-1', service: 'kms', sha256: Sha256 });
    expect(v(await signed(kmsCall('{}'), other))).toBe('ACCESS_KEY_UNKNOWN');
    expect(v(req, now + 15 * 60_000)).toBe('accepted');
    expect(v(req, now + 15 * 60_000 + 1000)).toBe('SIGNATURE_EXPIRED');
    expect(v(req, now - 15 * 60_000 - 1000)).toBe('SIGNATURE_EXPIRED');
    const { authorization, ...noAuth } = req.headers;
    expect(v({ ...req, headers: noAuth })).toBe('SIGNATURE_MALFORMED');
    const { 'x-amz-date': _date, ...noDate } = req.headers;
    expect(v({ ...req, headers: noDate })).toBe('SIGNATURE_MALFORMED');
    for (const bad of [
      authorization!.replace(/, Signature=[0-9a-f]+/, ''), authorization!.replace('/aws4_request', '/aws5_request'),
      authorization!.replace(/Signature=[0-9a-f]+/, 'Signature=zz'), authorization!.replace('SignedHeaders=', 'SignedHeaders=;'),
      authorization!.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=content-type'), 'AWS4-HMAC-SHA256 garbage',
    ]) expect(v({ ...req, headers: { ...req.headers, authorization: bad } }), bad).toBe('SIGNATURE_MALFORMED');
  });

  it('the canonical query sorts by name then value and encodes per RFC 3986', () => {
    expect(canonicalQuery('b=2&a=x%20y&b=1&c&d=%7E%2a')).toBe('a=x%20y&b=1&b=2&c=&d=~%2A');
  });
});

describe('Tencent TC3-HMAC-SHA256', () => {
  const key: AccessKey = { id: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE', secret: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE', tenant: 'tc-team' };
  const keys = new AccessKeys([key]);
  const timestamp = 1_764_567_000;
  const body = '{"KeyId":"00000000-0000-0000-0000-000000000000"}';

  /** What tencentcloud-sdk-nodejs sends for an endpoint: service = the first host label, Host signed without its port. */
  function nodeSdk(endpoint: string, secret = key.secret, at = timestamp, payload = body): SignedRequest {
    const url = `http://${endpoint}/`;
    const authorization = TencentSign.sign3({
      method: 'POST', url, payload: JSON.parse(payload), timestamp: at, service: endpoint.split('.')[0], secretId: key.id, secretKey: secret,
      headers: { 'Content-Type': 'application/json' },
    });
    return wire('POST', '/', {
      host: new URL(url).host, 'content-type': 'application/json', 'x-tc-action': 'DescribeKey', 'x-tc-version': '2019-01-18',
      'x-tc-timestamp': String(at), 'x-tc-region': 'ap-guangzhou', authorization,
    }, payload);
  }

  it('verifies the Node SDK\'s signature (service "127", Host without the port) and a named host', () => {
    expect(verifyTc3(nodeSdk('127.0.0.1:4599'), keys, timestamp * 1000)).toBe(key);
    expect(verifyTc3(nodeSdk('kms.tencentcloudapi.com'), keys, timestamp * 1000)).toBe(key);
  });

  it('verifies the Python SDK\'s form: service "kms", Host with its port (Tencent\'s documented steps)', () => {
    const host = '127.0.0.1:4599';
    const canonical = ['POST', '/', '', `content-type:application/json\nhost:${host}\n`, 'content-type;host', createHash('sha256').update(body).digest('hex')].join('\n');
    const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
    const signature = tc3Signature(key.secret, timestamp, { date, service: 'kms' }, canonical);
    const req = wire('POST', '/', {
      host, 'content-type': 'application/json', 'x-tc-timestamp': String(timestamp),
      authorization: `TC3-HMAC-SHA256 Credential=${key.id}/${date}/kms/tc3_request, SignedHeaders=content-type;host, Signature=${signature}`,
    }, body);
    expect(verifyTc3(req, keys, timestamp * 1000)).toBe(key);
    // The same signature with the Node SDK's Host form does not verify: the port is signed.
    expect(code(() => verifyTc3({ ...req, headers: { ...req.headers, host: '127.0.0.1:4600' } }, keys, timestamp * 1000))).toBe('SIGNATURE_MISMATCH');
  });

  it('refuses with the codes Tencent answers: SignatureFailure, SignatureExpire, SecretIdNotFound, InvalidAuthorization', () => {
    const now = timestamp * 1000;
    const v = (r: SignedRequest, at = now) => code(() => verifyTc3(r, keys, at));
    const req = nodeSdk('127.0.0.1:4599');
    expect(v(nodeSdk('127.0.0.1:4599', 'wrong'))).toBe('SIGNATURE_MISMATCH');
    expect(v({ ...req, body: new Uint8Array(Buffer.from(body.replace('0000', '1111'))) })).toBe('SIGNATURE_MISMATCH');
    expect(v({ ...req, headers: { ...req.headers, 'x-tc-timestamp': String(timestamp + 1) } })).toBe('SIGNATURE_MISMATCH');
    expect(v(req, now + 300_000)).toBe('accepted');
    expect(v(req, now + 301_000)).toBe('SIGNATURE_EXPIRED');
    expect(v(req, now - 301_000)).toBe('SIGNATURE_EXPIRED');
    expect(v({ ...req, headers: { ...req.headers, authorization: req.headers.authorization!.replace(key.id, 'AKIDunknown') } })).toBe('ACCESS_KEY_UNKNOWN');
    const { 'x-tc-timestamp': _t, ...noTimestamp } = req.headers;
    expect(v({ ...req, headers: noTimestamp })).toBe('SIGNATURE_MALFORMED');
    for (const bad of [
      req.headers.authorization!.replace('SignedHeaders=content-type;host', 'SignedHeaders=host'),
      req.headers.authorization!.replace('/tc3_request', '/tc4_request'), req.headers.authorization!.replace(/, Signature=.*/, ''),
      'TC3-HMAC-SHA256 x',
    ]) expect(v({ ...req, headers: { ...req.headers, authorization: bad } }), bad).toBe('SIGNATURE_MALFORMED');
  });
});

describe('Huawei SDK-HMAC-SHA256', () => {
  const key: AccessKey = { id: 'HPUAEXAMPLEAK0000001', secret: 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc', tenant: 'hw-team' };
  const keys = new AccessKeys([key]);
  const now = Date.UTC(2026, 11, 1, 5, 38, 6);
  const sdkDate = '20261201T053806Z';

  /** What the core SDK's signer adds to a request (its credential object needs only getAk/getSk). */
  function sdkSigned(path: string, body: object, headers: Record<string, string> = {}, secret = key.secret, queryParams: Record<string, string> = {}): SignedRequest {
    const base = { 'content-type': 'application/json', 'x-project-id': 'proj1', 'user-agent': 'huaweicloud-usdk-nodejs/3.0', 'X-Sdk-Date': sdkDate, ...headers };
    const signedHeaders = AKSKSigner.sign(
      { method: 'POST', endpoint: `http://127.0.0.1:4599${path}`, headers: base, data: body, queryParams },
      { getAk: () => key.id, getSk: () => secret },
    );
    const query = new URLSearchParams(queryParams).toString();
    return wire('POST', path + (query ? `?${query}` : ''), signedHeaders, JSON.stringify(body));
  }

  it('verifies the SDK\'s signature: trailing-slash canonical URI, Host with its port, query sorted', () => {
    expect(verifySdkHmac(sdkSigned('/v1.0/proj1/kms/describe-key', { key_id: 'k' }), keys, now)).toBe(key);
    expect(verifySdkHmac(sdkSigned('/v1.0/proj1/kms/list-keys', {}, {}, key.secret, { limit: '10', marker: 'a b' }), keys, now)).toBe(key);
  });

  it('refuses: wrong SK, tampered body or path, unknown AK, skew, unsigned payload, missing parts', () => {
    const req = sdkSigned('/v1.0/proj1/kms/describe-key', { key_id: 'k' });
    const v = (r: SignedRequest, at = now) => code(() => verifySdkHmac(r, keys, at));
    expect(v(sdkSigned('/v1.0/proj1/kms/describe-key', { key_id: 'k' }, {}, 'wrong'))).toBe('SIGNATURE_MISMATCH');
    expect(v({ ...req, body: new Uint8Array(Buffer.from('{"key_id":"K"}')) })).toBe('SIGNATURE_MISMATCH');
    expect(v({ ...req, url: '/v1.0/proj2/kms/describe-key' })).toBe('SIGNATURE_MISMATCH');
    expect(v({ ...req, headers: { ...req.headers, authorization: req.headers.authorization!.replace(key.id, 'UNKNOWNAK') } })).toBe('ACCESS_KEY_UNKNOWN');
    expect(v(req, now + 900_000)).toBe('accepted');
    expect(v(req, now + 901_000)).toBe('SIGNATURE_EXPIRED');
    expect(v(sdkSigned('/v1.0/proj1/kms/describe-key', { key_id: 'k' }, { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' }))).toBe('SIGNATURE_MISMATCH');
    const { 'x-sdk-date': _d, ...noDate } = req.headers;
    expect(v({ ...req, headers: noDate })).toBe('SIGNATURE_MALFORMED');
    for (const bad of ['SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=00', req.headers.authorization!.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=host;x-project-id')]) {
      expect(v({ ...req, headers: { ...req.headers, authorization: bad } }), bad).toBe('SIGNATURE_MALFORMED');
    }
  });
});
