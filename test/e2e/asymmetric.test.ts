/**
 * Asymmetric and HMAC import end to end, as a customer does it: keys from the OpenSSL CLI,
 * wrapped by the `byok wrap` binary (what the OpenSSL CLI cannot do), imported into the real
 * service over HTTP, then signatures checked by `openssl dgst` and MACs by `openssl dgst -mac`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startService, type RunningService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-e2e-asym-'));
let svc: RunningService;
const alice = { 'x-auth-token': 'alice-token' };
const api = (action: string) => `${svc.url}/v1.0/proj-1/kms/${action}`;
const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }).toString();
const byok = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ['bin/byok.js', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });

beforeAll(async () => {
  svc = await startService({ dataDir: join(dir, 'data'), authTokens: 'alice-token=alice' });
});
afterAll(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function parameters(keySpec: string, algorithm: string) {
  const created = await postJson(api('create-key'), { key_alias: 'k-' + randomBytes(3).toString('hex'), key_spec: keySpec, origin: 'external' }, alice);
  expect(created.status).toBe(200);
  const keyId = created.body.key_info.key_id as string;
  const p = await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: algorithm }, alice);
  expect(p.status).toBe(200);
  const publicKeyFile = join(dir, `${keyId}.pub.b64`);
  writeFileSync(publicKeyFile, p.body.public_key);
  return { keyId, token: p.body.import_token as string, publicKeyFile };
}

describe('asymmetric import through the service and the byok wrap CLI', () => {
  it.each([
    ['EC_P256', 'RSAES_OAEP_SHA_256', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'], 'ECDSA_SHA_256', 'sha256'],
    ['RSA_3072', 'RSA_AES_KEY_WRAP_SHA_256', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'], 'RSASSA_PSS_SHA_384', 'sha384'],
    ['SM2', 'SM2_ENCRYPT', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'], 'SM2DSA', 'sm3'],
  ])('%s via %s: wrap --private-key, import, get-publickey, sign → openssl verifies', async (keySpec, algorithm, keygen, signingAlgorithm, hash) => {
    const { keyId, token, publicKeyFile } = await parameters(keySpec, algorithm);
    const keyPem = join(dir, `${keyId}.pem`);
    openssl([...keygen, '-out', keyPem]);
    const wrapped = byok(['wrap', '--public-key', publicKeyFile, '--algorithm', algorithm, '--private-key', keyPem]);
    expect(wrapped.status, wrapped.stderr).toBe(0);
    const fields = algorithm.startsWith('RSA_AES_KEY_WRAP')
      ? { encrypted_key_material: wrapped.stdout.trim() }
      : JSON.parse(wrapped.stdout) as Record<string, string>;
    expect(Object.keys(fields).sort()).toEqual(algorithm.startsWith('RSA_AES_KEY_WRAP') ? ['encrypted_key_material'] : ['encrypted_key_material', 'encrypted_privatekey']);
    const imported = await postJson(api('import-key-material'), { key_id: keyId, import_token: token, ...fields }, alice);
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    const described = await postJson(api('describe-key'), { key_id: keyId }, alice);
    expect(described.body.key_info).toMatchObject({ key_state: '2', key_spec: keySpec, key_usage: 'SIGN_VERIFY' });

    const pub = await postJson(api('get-publickey'), { key_id: keyId }, alice);
    expect(Buffer.from(pub.body.public_key, 'base64')).toEqual(execFileSync('openssl', ['pkey', '-in', keyPem, '-pubout', '-outform', 'DER']));
    const message = randomBytes(200);
    const signed = await postJson(api('sign'), { key_id: keyId, message: message.toString('base64'), signing_algorithm: signingAlgorithm, message_type: 'RAW' }, alice);
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    writeFileSync(join(dir, 'msg'), message);
    writeFileSync(join(dir, 'sig'), Buffer.from(signed.body.signature, 'base64'));
    openssl(['pkey', '-in', keyPem, '-pubout', '-out', 'pub.pem']);
    const verified = hash === 'sm3'
      ? openssl(['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-rawin', '-in', 'msg', '-sigfile', 'sig', '-digest', 'sm3', '-pkeyopt', 'distid:1234567812345678'])
      : openssl(['dgst', `-${hash}`, ...(keySpec.startsWith('RSA') ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] : []), '-verify', 'pub.pem', '-signature', 'sig', 'msg']);
    expect(verified).toMatch(/Verified (OK|Successfully)/);
    const v = await postJson(api('verify'), { key_id: keyId, message: message.toString('base64'), signing_algorithm: signingAlgorithm, signature: signed.body.signature, message_type: 'RAW' }, alice);
    expect(v.body).toMatchObject({ key_id: keyId, signature_valid: 'true' });

    // The same key pair may come back; another key pair may not (KMS.2314), and nothing changes.
    const again = await postJson(api('get-parameters-for-import'), { key_id: keyId, wrapping_algorithm: algorithm }, alice);
    writeFileSync(publicKeyFile, again.body.public_key);
    const otherPem = join(dir, `${keyId}.other.pem`);
    openssl([...keygen, '-out', otherPem]);
    const other = byok(['wrap', '--public-key', publicKeyFile, '--algorithm', algorithm, '--private-key', otherPem]);
    const otherFields = algorithm.startsWith('RSA_AES_KEY_WRAP') ? { encrypted_key_material: other.stdout.trim() } : JSON.parse(other.stdout);
    const mismatch = await postJson(api('import-key-material'), { key_id: keyId, import_token: again.body.import_token, ...otherFields }, alice);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.error_code).toBe('KMS.2314');
    const still = await postJson(api('get-publickey'), { key_id: keyId }, alice);
    expect(still.body.public_key).toBe(pub.body.public_key);
  });

  it('byok import --private-key: one step, both shapes; the public key is the customer\'s', async () => {
    for (const algorithm of ['RSAES_OAEP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_1']) {
      const created = await postJson(api('create-key'), { key_alias: 'cli-' + randomBytes(3).toString('hex'), key_spec: 'EC_P384', origin: 'external' }, alice);
      const keyId = created.body.key_info.key_id as string;
      const keyPem = join(dir, `${keyId}.pem`);
      openssl(['ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', keyPem]);
      const r = byok(['import', '--endpoint', svc.url, '--project-id', 'proj-1', '--key-id', keyId, '--algorithm', algorithm, '--private-key', keyPem], { BYOK_AUTH_TOKEN: 'alice-token' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`imported into ${keyId}: key_state 2`));
      const pub = await postJson(api('get-publickey'), { key_id: keyId }, alice);
      expect(Buffer.from(pub.body.public_key, 'base64')).toEqual(execFileSync('openssl', ['pkey', '-in', keyPem, '-pubout', '-outform', 'DER']));
    }
  });

  it('an HMAC_256 key: wrapped directly by byok wrap --in, MAC equal to openssl dgst -mac HMAC', async () => {
    const { keyId, token, publicKeyFile } = await parameters('HMAC_256', 'RSAES_OAEP_SHA_1');
    const hmacKey = randomBytes(32);
    writeFileSync(join(dir, 'hmac.key'), hmacKey);
    const wrapped = byok(['wrap', '--public-key', publicKeyFile, '--algorithm', 'RSAES_OAEP_SHA_1', '--in', join(dir, 'hmac.key')]);
    expect(wrapped.status, wrapped.stderr).toBe(0);
    expect((await postJson(api('import-key-material'), { key_id: keyId, import_token: token, encrypted_key_material: wrapped.stdout.trim() }, alice)).status).toBe(200);
    const message = randomBytes(64);
    writeFileSync(join(dir, 'mac-msg'), message);
    const expected = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${hmacKey.toString('hex')}`, '-binary', join(dir, 'mac-msg')]);
    const mac = await postJson(api('generate-mac'), { key_id: keyId, message: message.toString('base64') }, alice);
    expect(mac.body).toMatchObject({ key_id: keyId, mac_algorithm: 'HMAC_SHA_256', mac: expected.toString('base64') });
    const ok = await postJson(api('verify-mac'), { key_id: keyId, message: message.toString('base64'), mac: mac.body.mac }, alice);
    expect(ok.body.mac_valid).toBe('true');
    const bad = await postJson(api('verify-mac'), { key_id: keyId, message: message.toString('base64'), mac: Buffer.alloc(32).toString('base64') }, alice);
    expect(bad.body.mac_valid).toBe('false');
    const enc = await postJson(api('encrypt-data'), { key_id: keyId, plain_text: 'no' }, alice);
    expect(enc.body.error.error_code).toBe('KMS.2320');
  });

  it('a PKCS#1 key sent as is gets KMS.2318 naming the conversion; byok wrap refuses a garbage key file with exit 1', async () => {
    const { keyId, token, publicKeyFile } = await parameters('RSA_2048', 'RSAES_OAEP_SHA_256');
    const keyPem = join(dir, 'rsa.pem');
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPem]);
    // A customer wrapping the PKCS#1 DER by hand (the library would have converted it).
    const { wrapForImport } = await import('../../src/client/wrap.js');
    const { aesKwpWrap } = await import('../../src/algorithms/aes-kwp.js');
    const pkcs1 = execFileSync('openssl', ['rsa', '-in', keyPem, '-traditional', '-outform', 'DER']);
    const temporaryKey = randomBytes(32);
    const head = wrapForImport({ publicKey: (await import('node:fs')).readFileSync(publicKeyFile, 'utf8'), algorithm: 'RSAES_OAEP_SHA_256', material: temporaryKey });
    const r = await postJson(api('import-key-material'), {
      key_id: keyId, import_token: token,
      encrypted_key_material: Buffer.from(head.encryptedKeyMaterial).toString('base64'),
      encrypted_privatekey: Buffer.from(aesKwpWrap(temporaryKey, pkcs1)).toString('base64'),
    }, alice);
    expect(r.status).toBe(400);
    expect(r.body.error.error_code).toBe('KMS.2318');
    expect(r.body.error.error_msg).toMatch(/openssl pkcs8 -topk8 -nocrypt/);
    writeFileSync(join(dir, 'garbage.pem'), 'not a key');
    const g = byok(['wrap', '--public-key', publicKeyFile, '--algorithm', 'RSAES_OAEP_SHA_256', '--private-key', join(dir, 'garbage.pem')]);
    expect(g.status).toBe(1);
    expect(g.stderr).toMatch(/PKCS#8, SEC1 or PKCS#1/);
  });
});
