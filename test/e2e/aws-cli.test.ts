/**
 * The README's AWS command lines, run as written against the real `byok serve`: Debian's AWS CLI
 * v2 (`awscli`, 2.9.19 on Debian 12) through the whole import — create-key, get-parameters-for-
 * import, the OpenSSL wrap, import-key-material, encrypt / decrypt — and Debian's boto3
 * (`python3-boto3`) with its exceptions. Both are unmodified clients signing with SigV4; CI
 * requires them (BYOK_REQUIRE_AWS_CLI), elsewhere the tests skip with the reason.
 *
 * Debian's versions predate the service-specific endpoint variable (AWS_ENDPOINT_URL_KMS: CLI
 * 2.13, botocore 1.31), so the endpoint is given as `--endpoint-url` / `endpoint_url`, which every
 * version takes.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapForAws } from '../helpers/aws.js';
import { customerDecrypt } from '../helpers/customer.js';
import { startService, type RunningService } from '../helpers/service.js';

const run = promisify(execFile);
// Debian's own: a pip-installed `aws` or python earlier on PATH (pyenv) would be another client.
const AWS_CLI = process.env.BYOK_AWS_CLI ?? '/usr/bin/aws';
const PYTHON = process.env.BYOK_PYTHON ?? '/usr/bin/python3';
const REQUIRED = Boolean(process.env.CI) || process.env.BYOK_REQUIRE_AWS_CLI === '1';

/** Why the AWS CLI or boto3 cannot run here (decided when the tests are collected); throws where required. */
function unavailable(): string | undefined {
  let reason: string | undefined;
  if (!existsSync(AWS_CLI)) reason = `the AWS CLI is not installed at ${AWS_CLI} (apt-get install -y awscli)`;
  else if (spawnSync(PYTHON, ['-c', 'import boto3'], { stdio: 'ignore' }).status !== 0) reason = `${PYTHON} has no boto3 (apt-get install -y python3-boto3)`;
  if (reason !== undefined && REQUIRED) throw new Error(`The AWS CLI tests are required here, but ${reason}`);
  return reason;
}
const UNAVAILABLE = unavailable();

const ACCESS_KEY = { id: 'AKIAEXAMPLE0000001', secret: 'example-secret' };
let dir: string;
let svc: RunningService;

/** The environment the README sets, isolated from the machine's own AWS configuration. */
function awsEnv(secret = ACCESS_KEY.secret): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, HOME: dir,
    AWS_ACCESS_KEY_ID: ACCESS_KEY.id, AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '',
  };
}

/** `aws --endpoint-url … kms <args>`: its JSON output, or its exit code and stderr. */
async function aws(args: string[], secret?: string): Promise<{ code: number; json?: any; stderr: string }> {
  try {
    const { stdout, stderr } = await run(AWS_CLI, ['--endpoint-url', svc.url, '--output', 'json', 'kms', ...args], { env: awsEnv(secret), cwd: dir });
    return { code: 0, json: stdout.trim() ? JSON.parse(stdout) : undefined, stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stderr: err.stderr ?? String(e) };
  }
}

/** Write bytes for a `fileb://` argument. */
function file(name: string, bytes: Uint8Array): string {
  writeFileSync(join(dir, name), bytes);
  return `fileb://${join(dir, name)}`;
}

describe.skipIf(UNAVAILABLE !== undefined)('Debian\'s AWS clients against byok serve', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'byok-e2e-awscli-'));
    svc = await startService({ dataDir: join(dir, 'data'), authTokens: 'api-token=my-team', args: ['--key-pool', '0', '--log-level', 'warn'], env: { BYOK_ACCESS_KEYS: `${ACCESS_KEY.id}:${ACCESS_KEY.secret}=my-team` } });
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('the AWS CLI (awscli)', () => {
    it('create-key, get-parameters-for-import, the OpenSSL wrap, import-key-material; encrypt and decrypt; other material is refused', async () => {
      const version = spawnSync(AWS_CLI, ['--version'], { encoding: 'utf8' }).stdout;
      expect(version).toMatch(/^aws-cli\/2\./);

      const created = await aws(['create-key', '--origin', 'EXTERNAL', '--description', 'cli']);
      expect(created.code, created.stderr).toBe(0);
      expect(created.json.KeyMetadata).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport', Enabled: false });
      const keyId: string = created.json.KeyMetadata.KeyId;

      const material = new Uint8Array(randomBytes(32));
      /** One import of `bytes` with fresh parameters; the CLI prints blobs as base64. */
      const importOnce = async (bytes: Uint8Array, algorithm: string, spec: string) => {
        const p = await aws(['get-parameters-for-import', '--key-id', keyId, '--wrapping-algorithm', algorithm, '--wrapping-key-spec', spec]);
        expect(p.code, p.stderr).toBe(0);
        expect(Date.parse(p.json.ParametersValidTo)).toBeGreaterThan(Date.now());
        const wrapped = wrapForAws(Buffer.from(p.json.PublicKey, 'base64'), algorithm, bytes);
        return aws(['import-key-material', '--key-id', keyId, '--encrypted-key-material', file('wrapped.bin', wrapped),
          '--import-token', file('token.bin', Buffer.from(p.json.ImportToken, 'base64')), '--expiration-model', 'KEY_MATERIAL_DOES_NOT_EXPIRE']);
      };
      const imported = await importOnce(material, 'RSAES_OAEP_SHA_256', 'RSA_2048');
      expect(imported.code, imported.stderr).toBe(0);
      expect((await aws(['describe-key', '--key-id', keyId])).json.KeyMetadata).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });

      // The service encrypts; the customer's own material opens it, and the CLI's decrypt agrees.
      const encrypted = await aws(['encrypt', '--key-id', keyId, '--plaintext', file('plain.txt', Buffer.from('hello from the aws cli'))]);
      expect(encrypted.code, encrypted.stderr).toBe(0);
      const blob = Buffer.from(encrypted.json.CiphertextBlob, 'base64');
      expect(Buffer.from(customerDecrypt('AES_256', material, blob)).toString()).toBe('hello from the aws cli');
      const decrypted = await aws(['decrypt', '--ciphertext-blob', file('blob.bin', blob)]);
      expect([decrypted.code, Buffer.from(decrypted.json.Plaintext, 'base64').toString()]).toEqual([0, 'hello from the aws cli']);

      // The same material comes back (the envelope algorithm this time); other material never does.
      expect((await importOnce(material, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_3072')).code).toBe(0);
      const other = await importOnce(new Uint8Array(randomBytes(32)), 'RSAES_OAEP_SHA_256', 'RSA_2048');
      expect(other.code).toBe(254); // the CLI's exit code for a service error
      expect(other.stderr).toContain('(IncorrectKeyMaterialException) when calling the ImportKeyMaterial operation');
    }, 120_000);

    it('the README\'s CLI import block, run by bash as written, leaves the key Enabled', async () => {
      const readme = readFileSync('README.md', 'utf8');
      const start = readme.indexOf('The whole import with the CLI');
      const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start))![1];
      expect(block).toContain('aws kms import-key-material');
      const work = mkdtempSync(join(dir, 'readme-'));
      // Debian's CLI predates AWS_ENDPOINT_URL_KMS: the README's other line, --endpoint-url, supplies it.
      const prelude = `set -euo pipefail\naws() { ${AWS_CLI} --endpoint-url ${svc.url} "$@"; }\n`;
      const { stdout } = await run('bash', ['-c', `${prelude}${block}\naws kms describe-key --key-id "$KEY" --query KeyMetadata.KeyState --output text`], { env: awsEnv(), cwd: work });
      expect(stdout.trim().split('\n').at(-1)).toBe('Enabled');
    }, 60_000);

    it('a wrong secret and an unknown key are the AWS exceptions the CLI names', async () => {
      const badSecret = await aws(['list-keys'], 'not-the-secret');
      expect([badSecret.code, badSecret.stderr]).toEqual([254, expect.stringContaining('(InvalidSignatureException) when calling the ListKeys operation')]);
      const unknown = await aws(['describe-key', '--key-id', '00000000-0000-0000-0000-000000000000']);
      expect([unknown.code, unknown.stderr]).toEqual([254, expect.stringContaining('(NotFoundException) when calling the DescribeKey operation')]);
    }, 60_000);
  });

  describe('boto3 (python3-boto3)', () => {
    it('create_key, describe_key, list_keys; the exceptions are the client\'s own classes; every answer has its request ID', async () => {
      const script = `
import json, sys, boto3
kms = boto3.client("kms", endpoint_url=sys.argv[1], region_name="eu-west-1")
out = {}
key = kms.create_key(Origin="EXTERNAL", Description="boto3")
out["state"] = key["KeyMetadata"]["KeyState"]
out["requestId"] = key["ResponseMetadata"]["RequestId"]
key_id = key["KeyMetadata"]["KeyId"]
out["described"] = kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
out["listed"] = key_id in [k["KeyId"] for k in kms.list_keys()["Keys"]]
try:
    kms.describe_key(KeyId="00000000-0000-0000-0000-000000000000")
except kms.exceptions.NotFoundException as e:
    out["notFound"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
try:
    kms.encrypt(KeyId=key_id, Plaintext=b"x")
except kms.exceptions.KMSInvalidStateException as e:
    out["pendingImport"] = e.response["Error"]["Code"]
print(json.dumps(out))
      `;
      const { stdout } = await run(PYTHON, ['-c', script, svc.url], { env: awsEnv(), cwd: dir });
      const out = JSON.parse(stdout);
      expect(out).toMatchObject({ state: 'PendingImport', described: true, listed: true, notFound: ['NotFoundException', 400], pendingImport: 'KMSInvalidStateException' });
      expect(out.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }, 60_000);
  });
});
