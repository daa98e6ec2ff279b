/**
 * The web console in a real headless Chromium against the real `byok serve`: the Huawei console
 * guide's import procedure walked through the page (create a key, download the wrapping key and
 * token, encrypt with the OpenSSL CLI exactly as the page's commands say, upload, Enabled), the
 * in-browser wrap (every request intercepted: only ciphertext leaves the page), a refused
 * re-import and its words, the material's expiry, the key operations, and the page at a phone's
 * width. Screenshots of each step go to $BYOK_SCREENSHOTS_DIR (default: a fresh temp folder).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, ElementHandle, HTTPRequest, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumUnavailable, launchChromium } from '../helpers/chromium.js';
import { customerDecrypt } from '../helpers/customer.js';
import { postJson, startService, type RunningService } from '../helpers/service.js';

// A run writes its screenshots to a folder of its own (named in its output), so `npm test` leaves
// the tree clean; `npm run screenshots` writes them over the README's, in test/browser/screenshots/.
const SCREENSHOTS = process.env.BYOK_SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), 'byok-console-screenshots-'));
const TOKEN = 'console-' + randomBytes(12).toString('hex');
const PROJECT = 'console-project';

interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

describe.skipIf(chromiumUnavailable())('the console in headless Chromium against byok serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'byok-console-'));
  const downloads = join(dir, 'downloads');
  const work = join(dir, 'work');
  let svc: RunningService;
  let shortLived: RunningService;
  let browser: Browser;
  let page: Page;
  const requests: SeenRequest[] = [];
  const pageErrors: string[] = [];
  const api = (action: string) => `${svc.url}/v1.0/${PROJECT}/kms/${action}`;
  const auth = { 'x-auth-token': TOKEN };

  // What the steps below learn and later steps use.
  let firstKeyId = '';
  let firstMaterial: Buffer;
  let secondKeyId = '';

  beforeAll(async () => {
    mkdirSync(downloads);
    mkdirSync(work);
    mkdirSync(SCREENSHOTS, { recursive: true });
    console.log(`console screenshots: ${SCREENSHOTS}`);
    [svc, shortLived, browser] = await Promise.all([
      startService({ dataDir: join(dir, 'data'), authTokens: `${TOKEN}=console-tenant` }),
      // A second service whose tokens live one second (the expiry test).
      startService({ dataDir: join(dir, 'data-short'), authTokens: `${TOKEN}=console-tenant`, args: ['--token-lifetime', '1'] }),
      launchChromium(downloads),
    ]);
    page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    // A refused inline script, style or host would show here: the page must need none.
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
    });
    // Every request the page makes is intercepted and recorded, then let through.
    await page.setRequestInterception(true);
    page.on('request', (req: HTTPRequest) => {
      requests.push({ method: req.method(), url: req.url(), headers: req.headers(), body: req.postData() ?? '' });
      void req.continue();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([svc?.stop(), shortLived?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const shot = async (name: string, selector?: string) => {
    const target: Page | ElementHandle | null = selector ? await page.$(selector) : page;
    await target!.screenshot({ path: join(SCREENSHOTS, `${name}.png`) as `${string}.png` });
  };
  const text = (selector: string) => page.$eval(selector, (e) => (e as HTMLElement).innerText);
  const waitForText = (selector: string, pattern: RegExp) => page.waitForFunction(
    (s: string, source: string, flags: string) => new RegExp(source, flags).test((document.querySelector(s) as HTMLElement | null)?.innerText ?? ''),
    { timeout: 15_000 }, selector, pattern.source, pattern.flags,
  );
  const row = (keyId: string) => `#key-rows tr[data-key-id="${keyId}"]`;
  const stateOf = (keyId: string) => text(`${row(keyId)} [data-field="state"]`);
  /** Click a row's operation once the list is not being reloaded (a reload replaces the rows). */
  const clickAction = async (keyId: string, action: string) => {
    await page.waitForSelector('#key-table:not([aria-busy])');
    await page.click(`${row(keyId)} button[data-action="${action}"]`);
  };

  /** Files in the download folder (complete ones only), waiting until `names` are all there. */
  async function downloaded(names: readonly string[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!names.every((n) => existsSync(join(downloads, n)))) {
      if (Date.now() > deadline) throw new Error(`downloads missing: ${names.join(', ')}; have ${readdirSync(downloads).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Open Import Key, create an external AES_256 key through the form; resolves its ID (the wizard opens). */
  async function createExternalKey(alias: string, spec = 'AES_256'): Promise<string> {
    await page.click('#open-import-key');
    await page.type('#create-alias', alias);
    await page.select('#create-spec', spec);
    await page.click('#create-understand');
    await page.click('#create-submit');
    await page.waitForSelector('#import-section:not([hidden])');
    const keyId = await text('#import-key-id');
    expect(keyId).toMatch(/^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/);
    await page.waitForSelector(row(keyId));
    return keyId;
  }

  /** Step 1: choose the algorithm, Download; resolves the three file names the page shows. */
  async function downloadItems(algorithm: string): Promise<{ wrappingKey: string; importToken: string; readme: string }> {
    await page.select('#wrapping-algorithm', algorithm);
    await page.$eval('#download-result', (e) => e.replaceChildren());
    await page.click('#download');
    await waitForText('#download-result', /expire at/);
    const names = await page.$$eval('#download-result [data-file]', (els) => els.map((e) => e.textContent ?? ''));
    const [wrappingKey, importToken, readme] = names;
    await downloaded(names);
    return { wrappingKey, importToken, readme };
  }

  async function importAndWait(pattern: RegExp): Promise<string> {
    await page.$eval('#import-result', (e) => (e.textContent = ''));
    await page.click('#import-ok');
    await waitForText('#import-result', pattern);
    return text('#import-result');
  }

  it('serves /console with a strict CSP and the security headers, and no external host', async () => {
    const redirect = await fetch(`${svc.url}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/console/');
    for (const path of ['/console/', '/console/console.js', '/console/console.css', '/console/missing.js']) {
      const res = await fetch(`${svc.url}${path}`);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.status).toBe(path.endsWith('missing.js') ? 404 : 200);
    }
    const html = await (await fetch(`${svc.url}/console/`)).text();
    // No inline script or style, no handler attributes, nothing from another host.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\son[a-z]+=|style=/);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });

  it('signs in with the keyboard; a bad token is refused in words and the token is kept for the tab only', async () => {
    await page.goto(`${svc.url}/console`, { waitUntil: 'networkidle0' });
    await shot('01-sign-in');
    await page.focus('#sign-in-token');
    await page.keyboard.type('not-the-token');
    await page.keyboard.press('Enter');
    await waitForText('#sign-in-error', /KMS\.0401/);
    expect(await text('#sign-in-error')).toContain('Not signed in, or the API token is not valid');
    await page.$eval('#sign-in-token', (e) => ((e as HTMLInputElement).value = ''));
    await page.focus('#sign-in-token');
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Tab');
    await page.keyboard.down('Control');
    await page.keyboard.press('KeyA');
    await page.keyboard.up('Control');
    await page.keyboard.type(PROJECT);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#keys-section:not([hidden])');
    await waitForText('#list-status', /0 keys/);
    const storage = await page.evaluate(() => ({ session: sessionStorage.getItem('byok-console-session'), local: localStorage.length, cookie: document.cookie }));
    expect(JSON.parse(storage.session!)).toEqual({ token: TOKEN, project: PROJECT });
    expect(storage.local).toBe(0);
    expect(storage.cookie).toBe('');
    expect(page.url()).not.toContain(TOKEN);
    await shot('02-key-list-empty');
  });

  it('walks the import wizard: create, download both files, encrypt with the OpenSSL CLI as the page says, upload, Enabled', async () => {
    firstKeyId = await createExternalKey('console-openssl');
    expect(await stateOf(firstKeyId)).toBe('Pending import');

    // The guide's notice for SHA-1, shown only for it.
    await page.select('#wrapping-algorithm', 'RSAES_OAEP_SHA_1');
    expect(await page.$eval('#sha1-notice', (e) => (e as HTMLElement).hidden)).toBe(false);
    expect(await text('#sha1-notice')).toBe('NOTICE: The RSAES_OAEP_SHA_1 encryption algorithm is no longer secure. Exercise caution when performing this operation.');
    await shot('03-wizard-algorithm-sha1-notice', '#step-download');
    await page.select('#wrapping-algorithm', 'RSAES_OAEP_SHA_256');
    expect(await page.$eval('#sha1-notice', (e) => (e as HTMLElement).hidden)).toBe(true);
    expect(await page.$$eval('#wrapping-key-spec option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['RSA_2048', 'RSA_3072', 'RSA_4096']);

    const files = await downloadItems('RSAES_OAEP_SHA_256');
    const name = new RegExp(`^(wrappingKey|importToken|README)_${firstKeyId}_(\\d{14})$`);
    for (const f of Object.values(files)) expect(f).toMatch(name);
    const time = name.exec(files.wrappingKey)![2];
    expect(Math.abs(Date.UTC(+time.slice(0, 4), +time.slice(4, 6) - 1, +time.slice(6, 8), +time.slice(8, 10), +time.slice(10, 12), +time.slice(12)) - Date.now())).toBeLessThan(60_000);
    // The wrapping key is DER SPKI (OpenSSL reads it as the commands say); the token is the API's base64.
    const spki = execFileSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', join(downloads, files.wrappingKey), '-noout', '-text'], { encoding: 'utf8' });
    expect(spki).toContain('Public-Key: (2048 bit)');
    expect(readFileSync(join(downloads, files.importToken), 'utf8')).toMatch(/^[0-9a-zA-Z+/=]{200,6144}$/);
    const readme = readFileSync(join(downloads, files.readme), 'utf8');
    expect(readme).toContain(`Key ID: ${firstKeyId}`);
    expect(readme).toContain(`Wrapping key: ${files.wrappingKey}`);
    // The expiry shown is the token's: 24 hours after the download.
    const expiry = /expire at (\d{4}-\d\d-\d\d \d\d:\d\d) UTC/.exec(await text('#download-result'))![1];
    expect(Math.abs(Date.parse(`${expiry}Z`) - (Date.now() + 86_400_000))).toBeLessThan(120_000);
    expect(readme).toContain(`expire at ${expiry} UTC`);
    await shot('04-downloaded-with-expiry', '#step-download');

    // Step 2: the exact commands, filled in with the downloaded wrapping key, run as shown.
    const commands = await page.$$eval('#openssl-steps code.command', (els) => els.map((e) => e.textContent ?? ''));
    expect(commands).toEqual([
      'openssl rand -out PlaintextKeyMaterial.bin 32',
      `openssl pkeyutl -in PlaintextKeyMaterial.bin -inkey ${files.wrappingKey} -out EncryptedKeyMaterial.bin -keyform der -pubin -encrypt -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256`,
    ]);
    // Run where the customer would: a folder with the downloaded wrapping key.
    copyFileSync(join(downloads, files.wrappingKey), join(work, files.wrappingKey));
    for (const command of commands) {
      const [tool, ...args] = command.split(' ');
      expect(tool).toBe('openssl');
      execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });
    }
    firstMaterial = readFileSync(join(work, 'PlaintextKeyMaterial.bin'));
    expect(firstMaterial).toHaveLength(32);
    await shot('05-openssl-commands', '#step-encrypt');

    // Steps 3 and 4: upload the encrypted material and the token file; the material never expires.
    await (await page.$('#material-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(work, 'EncryptedKeyMaterial.bin'));
    await (await page.$('#token-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(downloads, files.importToken));
    await page.click('#expiry-never');
    await shot('06-upload-material-and-token', '#import-form');
    expect(await importAndWait(/imported|Refused/)).toBe('Key material imported: the key is Enabled.');
    await waitForText(`${row(firstKeyId)} [data-field="state"]`, /^Enabled$/);
    const described = await postJson(api('describe-key'), { key_id: firstKeyId }, auth);
    expect(described.body.key_info).toMatchObject({ key_state: '2', origin: 'external', expiration_time: '' });
    expect(await text(`${row(firstKeyId)} [data-field="kcv"]`)).toBe(described.body.key_info.key_check_value);
    expect(await text(`${row(firstKeyId)} [data-field="expiry"]`)).toBe('Never');
    await shot('07-imported-enabled', '#keys-section');

    // The material (made and kept by the customer) decrypts locally what the service encrypted.
    const enc = await postJson(api('encrypt-data'), { key_id: firstKeyId, plain_text: 'imported through the console' }, auth);
    expect(Buffer.from(customerDecrypt('AES_256', firstMaterial, Buffer.from(enc.body.cipher_text, 'base64'))).toString()).toBe('imported through the console');
  });

  it('wraps in this browser (WebCrypto RSA-OAEP SHA-256) with generated material: only ciphertext leaves the page; the expiry is shown', async () => {
    const before = requests.length;
    await page.click('#import-close');
    secondKeyId = await createExternalKey('console-browser-wrap');
    await downloadItems('RSAES_OAEP_SHA_256');
    expect(await text('#browser-wrap-status')).toContain('only the ciphertext is sent');
    await page.click('#material-generate');
    await page.click('#browser-encrypt');
    await waitForText('#browser-wrap-result', /Encrypted in this browser \(256 bytes/);
    await page.click('#save-plain-material');
    await downloaded(['PlaintextKeyMaterial.bin']);
    const material = readFileSync(join(downloads, 'PlaintextKeyMaterial.bin'));
    expect(material).toHaveLength(32);
    expect(material.equals(firstMaterial)).toBe(false);
    await shot('08-wrapped-in-browser', '#step-encrypt');

    // Expires on: a date the list then shows.
    await page.click('#expiry-on');
    const expiry = new Date(Date.now() + 3 * 86_400_000);
    expiry.setUTCSeconds(0, 0);
    await page.$eval('#expiry-date', (e, v) => ((e as HTMLInputElement).value = v), new Date(expiry.getTime() - expiry.getTimezoneOffset() * 60_000).toISOString().slice(0, 16));
    expect(await importAndWait(/imported|Refused/)).toBe('Key material imported: the key is Enabled.');
    await waitForText(`${row(secondKeyId)} [data-field="state"]`, /^Enabled$/);
    const expiryText = `${expiry.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    expect(await text(`${row(secondKeyId)} [data-field="expiry"]`)).toBe(expiryText);
    const described = await postJson(api('describe-key'), { key_id: secondKeyId }, auth);
    expect(described.body.key_info.expiration_time).toBe(String(expiry.getTime()));
    await shot('09-expiry-shown', '#keys-section');

    // Every request since: to this service only, no form of the material in any URL, header or body.
    const sent = requests.slice(before);
    const forms = [material.toString('hex'), material.toString('base64'), material.toString('base64url'), material.toString('latin1'), Array.from(material).join(',')];
    for (const r of sent) {
      if (!r.url.startsWith('blob:')) expect(new URL(r.url).origin).toBe(svc.url);
      const all = `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`;
      for (const f of forms) expect(all.includes(f)).toBe(false);
    }
    const imports = sent.filter((r) => r.url.endsWith('/kms/import-key-material'));
    expect(imports).toHaveLength(1);
    const body = JSON.parse(imports[0].body);
    expect(Object.keys(body).sort()).toEqual(['encrypted_key_material', 'expiration_time', 'import_token', 'key_id']);
    expect(Buffer.from(body.encrypted_key_material, 'base64')).toHaveLength(256);
    expect(body.expiration_time).toBe(expiry.getTime() / 1000);

    // The material saved from the page is the one the service took.
    const enc = await postJson(api('encrypt-data'), { key_id: secondKeyId, plain_text: 'wrapped in the browser' }, auth);
    expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(enc.body.cipher_text, 'base64'))).toString()).toBe('wrapped in the browser');
  });

  it('refuses a re-import with different material (WebCrypto RSA-OAEP SHA-1, material from a file) and says why', async () => {
    await page.click('#import-close');
    await clickAction(firstKeyId, 'import');
    await page.waitForSelector('#import-section:not([hidden])');
    expect(await text('#import-key-id')).toBe(firstKeyId);
    await downloadItems('RSAES_OAEP_SHA_1');
    const other = join(work, 'OtherMaterial.bin');
    writeFileSync(other, randomBytes(32));
    await page.click('#material-file-choice');
    await (await page.$('#plain-material-file') as ElementHandle<HTMLInputElement>).uploadFile(other);
    await page.click('#browser-encrypt');
    await waitForText('#browser-wrap-result', /Encrypted in this browser/);
    const refusal = await importAndWait(/imported|Refused/);
    expect(refusal).toBe('Refused: the material is not the one this key was first given. A key only ever takes the material imported first; import that same material, or create a new key for new material. (KMS.2314: The key material is different from the one previously imported.)');
    await shot('10-refused-reimport', '#import-section');
    // Nothing changed: the key is still Enabled with its first material.
    expect((await postJson(api('describe-key'), { key_id: firstKeyId }, auth)).body.key_info.key_state).toBe('2');
    const enc = await postJson(api('encrypt-data'), { key_id: firstKeyId, plain_text: 'still the first' }, auth);
    expect(Buffer.from(customerDecrypt('AES_256', firstMaterial, Buffer.from(enc.body.cipher_text, 'base64'))).toString()).toBe('still the first');
    await page.click('#import-close');
  });

  it('refuses material encrypted with an older download\'s wrapping key (wrong key), then a spent token, and says why', async () => {
    const keyId = await createExternalKey('console-wrong-key');
    const older = await downloadItems('RSAES_OAEP_SHA_256');
    copyFileSync(join(downloads, older.wrappingKey), join(work, older.wrappingKey));
    const commands = await page.$$eval('#openssl-steps code.command', (els) => els.map((e) => e.textContent ?? ''));
    for (const command of commands) execFileSync('openssl', command.split(' ').slice(1), { cwd: work, stdio: 'pipe' });
    // Downloaded again (a second wrapping key and token), but the material was encrypted with the first.
    // This time with the keyboard only: Tab from the algorithm to the key spec to Download, Enter.
    await new Promise((r) => setTimeout(r, 1000)); // a new download time, so new file names
    await page.$eval('#download-result', (e) => e.replaceChildren());
    await page.focus('#wrapping-algorithm');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('wrapping-key-spec');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('download');
    await page.keyboard.press('Enter');
    await waitForText('#download-result', /expire at/);
    const [, newToken] = await page.$$eval('#download-result [data-file]', (els) => els.map((e) => e.textContent ?? ''));
    await downloaded([newToken]);
    const newer = { importToken: newToken };
    expect(newer.importToken).not.toBe(older.importToken);
    await (await page.$('#material-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(work, 'EncryptedKeyMaterial.bin'));
    await (await page.$('#token-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(downloads, newer.importToken));
    expect(await importAndWait(/imported|Refused/)).toBe('Refused: the encrypted material could not be decrypted with this token\'s wrapping key. Encrypt it with the wrappingKey file downloaded together with this token (not an older one), with the algorithm chosen in step 1, and upload the encrypted file, not the plaintext. (KMS.2310: The encrypted key material could not be decrypted.)');
    expect(await stateOf(keyId)).toBe('Pending import');
    // Nine more failures with this token (the default budget is ten): then it is spent, and the page says so.
    const token = readFileSync(join(downloads, newer.importToken), 'utf8');
    for (let i = 0; i < 9; i++) {
      const r = await postJson(api('import-key-material'), { key_id: keyId, import_token: token, encrypted_key_material: randomBytes(256).toString('base64') }, auth);
      expect(r.body.error.error_code).toBe('KMS.2310');
    }
    expect(await importAndWait(/imported|Refused/)).toBe('Refused: this token has used up its failed attempts. Download a new wrapping key and token and encrypt the material again. (KMS.2313: The import token has reached its limit of failed imports.)');
    await page.click('#import-close');
  });

  it('refuses an expired token in words, and an expired wrapping key must be downloaded again', async () => {
    // The service whose tokens live one second: its page is another origin, so another sign-in.
    await page.goto(`${shortLived.url}/console/`, { waitUntil: 'networkidle0' });
    await page.type('#sign-in-token', TOKEN);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#keys-section:not([hidden])');
    await createExternalKey('console-expired');
    const files = await downloadItems('RSAES_OAEP_SHA_256');
    await new Promise((r) => setTimeout(r, 2100));
    await page.click('#browser-encrypt');
    await waitForText('#browser-wrap-result', /expired/);
    expect(await text('#browser-wrap-result')).toBe('The wrapping key has expired: download the import items again.');
    // With the token file uploaded the page cannot know: the service refuses it.
    copyFileSync(join(downloads, files.wrappingKey), join(work, files.wrappingKey));
    const commands = await page.$$eval('#openssl-steps code.command', (els) => els.map((e) => e.textContent ?? ''));
    for (const command of commands) execFileSync('openssl', command.split(' ').slice(1), { cwd: work, stdio: 'pipe' });
    await (await page.$('#material-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(work, 'EncryptedKeyMaterial.bin'));
    await (await page.$('#token-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(downloads, files.importToken));
    expect(await importAndWait(/imported|Refused/)).toBe('Refused: the import token has expired (the wrapping key and the token expire together, 24 hours after the download unless the service says otherwise). Download them again, encrypt the material with the new wrapping key and import with the new token. (KMS.2312: The import token has expired.)');
    await shot('10b-refused-expired-token', '#import-form');
    await page.goto(`${svc.url}/console/`, { waitUntil: 'networkidle0' });
    await page.waitForSelector(row(firstKeyId));
  });

  it('imports a private key (ECC_NIST_P256) as Huawei\'s two fields with the page\'s OpenSSL commands, encrypted_privatekey uploaded', async () => {
    const keyId = await createExternalKey('console-ec-key', 'ECC_NIST_P256');
    expect(await text('#browser-wrap-status')).toContain('A private key travels under a temporary AES key');
    expect(await page.$eval('#private-key-upload-field', (e) => (e as HTMLElement).hidden)).toBe(false);
    const files = await downloadItems('RSAES_OAEP_SHA_256');
    const commands = await page.$$eval('#openssl-steps code.command', (els) => els.map((e) => e.textContent ?? ''));
    expect(commands).toEqual([
      'openssl pkcs8 -topk8 -nocrypt -in PrivateKey.pem -outform DER -out PrivateKey.der',
      'openssl rand -out TemporaryAesKey.bin 32',
      `openssl pkeyutl -in TemporaryAesKey.bin -inkey ${files.wrappingKey} -out EncryptedKeyMaterial.bin -keyform der -pubin -encrypt -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256`,
      "openssl enc -id-aes256-wrap-pad -K $(od -An -tx1 -v TemporaryAesKey.bin | tr -d ' \\n') -iv A65959A6 -in PrivateKey.der -out EncryptedPrivateKey.bin",
    ]);
    const ec = join(work, 'ec');
    mkdirSync(ec);
    copyFileSync(join(downloads, files.wrappingKey), join(ec, files.wrappingKey));
    // The customer's key, as a SEC1 PEM (the first command converts it).
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'PrivateKey.pem'], { cwd: ec });
    // The key wrap command uses the shell ($(...)): run each as a person would paste it.
    for (const command of commands) execFileSync('sh', ['-c', command], { cwd: ec, stdio: 'pipe' });
    await (await page.$('#material-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(ec, 'EncryptedKeyMaterial.bin'));
    await (await page.$('#private-key-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(ec, 'EncryptedPrivateKey.bin'));
    await (await page.$('#token-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(downloads, files.importToken));
    expect(await importAndWait(/imported|Refused/)).toBe('Key material imported: the key is Enabled.');
    await waitForText(`${row(keyId)} [data-field="state"]`, /^Enabled$/);
    // The service holds the customer's key pair: its public key is the local one.
    const pub = await postJson(api('get-publickey'), { key_id: keyId }, auth);
    const local = execFileSync('openssl', ['pkey', '-in', join(ec, 'PrivateKey.pem'), '-pubout', '-outform', 'DER']);
    expect(pub.body.public_key).toBe(local.toString('base64'));
    await page.click('#import-close');
  });

  it('imports with the page\'s OpenSSL commands for RSAES_PKCS1_V1_5, SM2_ENCRYPT and RSA_AES_KEY_WRAP_SHA_256 too', async () => {
    for (const algorithm of ['RSAES_PKCS1_V1_5', 'SM2_ENCRYPT', 'RSA_AES_KEY_WRAP_SHA_256']) {
      const keyId = await createExternalKey(`console-${algorithm.toLowerCase().replace(/_/g, '-')}`);
      const files = await downloadItems(algorithm);
      const folder = join(work, algorithm);
      mkdirSync(folder);
      copyFileSync(join(downloads, files.wrappingKey), join(folder, files.wrappingKey));
      const commands = await page.$$eval('#openssl-steps code.command', (els) => els.map((e) => e.textContent ?? ''));
      for (const command of commands) execFileSync('sh', ['-c', command], { cwd: folder, stdio: 'pipe' });
      await (await page.$('#material-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(folder, 'EncryptedKeyMaterial.bin'));
      await (await page.$('#token-upload') as ElementHandle<HTMLInputElement>).uploadFile(join(downloads, files.importToken));
      expect(await importAndWait(/imported|Refused/), algorithm).toBe('Key material imported: the key is Enabled.');
      const enc = await postJson(api('encrypt-data'), { key_id: keyId, plain_text: algorithm }, auth);
      const material = readFileSync(join(folder, 'PlaintextKeyMaterial.bin'));
      expect(Buffer.from(customerDecrypt('AES_256', material, Buffer.from(enc.body.cipher_text, 'base64'))).toString()).toBe(algorithm);
      await page.click('#import-close');
    }
  });

  it('says plainly what WebCrypto cannot do, and gives the OpenSSL commands for it', async () => {
    await clickAction(firstKeyId, 'import');
    await page.select('#wrapping-algorithm', 'RSAES_PKCS1_V1_5');
    expect(await text('#browser-wrap-status')).toBe('WebCrypto has no RSAES-PKCS1-v1_5 encryption: use the OpenSSL commands for RSAES_PKCS1_V1_5, or RSAES_OAEP_SHA_256 to wrap in this browser.');
    expect(await page.$eval('#browser-wrap-controls', (e) => (e as HTMLElement).hidden)).toBe(true);
    const commands = await page.$$eval('#openssl-steps code.command', (els) => els.map((e) => e.textContent ?? ''));
    expect(commands[1]).toBe(`openssl rsautl -encrypt -in PlaintextKeyMaterial.bin -pkcs -inkey wrappingKey_${firstKeyId}_<download time> -keyform der -pubin -out EncryptedKeyMaterial.bin`);
    await page.select('#wrapping-algorithm', 'SM2_ENCRYPT');
    expect(await text('#browser-wrap-status')).toContain('WebCrypto has no SM2 encryption');
    expect(await page.$$eval('#wrapping-key-spec option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['SM2']);
    await page.click('#import-close');
  });

  it('creates a KMS key (HMAC_256, its usage implied) that is Enabled at once', async () => {
    await page.click('#open-create');
    await page.type('#create-alias', 'console-kms-hmac');
    await page.click('#origin-kms');
    await page.select('#create-spec', 'HMAC_256');
    expect(await page.$$eval('#create-usage option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['GENERATE_VERIFY_MAC']);
    expect(await page.$eval('#external-consent', (e) => (e as HTMLElement).hidden)).toBe(true);
    await page.click('#create-submit');
    await waitForText('#list-status', /created and Enabled/);
    const keyId = /Key (\S+) created/.exec(await text('#list-status'))![1];
    await page.waitForSelector(row(keyId));
    expect(await stateOf(keyId)).toBe('Enabled');
    expect(await text(`${row(keyId)} td[data-label="Origin"]`)).toBe('KMS');
    const described = await postJson(api('describe-key'), { key_id: keyId }, auth);
    expect(described.body.key_info).toMatchObject({ key_spec: 'HMAC_256', key_usage: 'GENERATE_VERIFY_MAC', origin: 'kms', key_state: '2' });
  });

  it('disables, enables, deletes material, schedules and cancels deletion from the list', async () => {
    await clickAction(secondKeyId, 'disable');
    await waitForText(`${row(secondKeyId)} [data-field="state"]`, /^Disabled$/);
    await clickAction(secondKeyId, 'enable');
    await waitForText(`${row(secondKeyId)} [data-field="state"]`, /^Enabled$/);
    await clickAction(secondKeyId, 'delete-material');
    await page.waitForSelector('#confirm-form:not([hidden])');
    expect(await text('#confirm-text')).toContain('only the same material can be imported again');
    await page.click('#confirm-ok');
    await waitForText(`${row(secondKeyId)} [data-field="state"]`, /^Pending import$/);
    expect((await postJson(api('describe-key'), { key_id: secondKeyId }, auth)).body.key_info.key_state).toBe('5');
    // Schedule the deletion in 30 days, then cancel it: a key without material is Pending import again.
    await clickAction(secondKeyId, 'schedule-deletion');
    await page.waitForSelector('#confirm-form:not([hidden])');
    await page.$eval('#confirm-days', (e) => ((e as HTMLInputElement).value = '30'));
    await shot('11-operations', '#keys-section');
    await page.click('#confirm-ok');
    await waitForText(`${row(secondKeyId)} [data-field="state"]`, /^Pending deletion$/);
    const scheduled = (await postJson(api('describe-key'), { key_id: secondKeyId }, auth)).body.key_info;
    expect(scheduled.key_state).toBe('4');
    expect(Math.abs(Number(scheduled.scheduled_deletion_date) - (Date.now() + 30 * 86_400_000))).toBeLessThan(120_000);
    await clickAction(secondKeyId, 'cancel-deletion');
    await waitForText(`${row(secondKeyId)} [data-field="state"]`, /^Pending import$/);
    expect((await postJson(api('describe-key'), { key_id: secondKeyId }, auth)).body.key_info.key_state).toBe('5');
  });

  it('is readable at a phone\'s width (375 px) and every control has a label', async () => {
    await page.setViewport({ width: 375, height: 812, isMobile: true, hasTouch: true });
    // A reload keeps the session: it is the tab's.
    await page.reload({ waitUntil: 'networkidle0' });
    await page.waitForSelector(`${row(firstKeyId)}`);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth);
    expect(await overflow()).toBeLessThanOrEqual(375);
    await shot('12-phone-key-list');
    await clickAction(secondKeyId, 'import');
    await page.waitForSelector('#import-section:not([hidden])');
    expect(await overflow()).toBeLessThanOrEqual(375);
    await shot('13-phone-import-wizard', '#import-section');
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('input, select, button')]
      .filter((el) => (el instanceof HTMLButtonElement ? !(el.textContent?.trim() || el.getAttribute('aria-label')) : !((el as HTMLInputElement).labels?.length || el.getAttribute('aria-label'))))
      .map((el) => el.outerHTML));
    expect(unlabelled).toEqual([]);
  });

  it('never put the token in a URL or the service log, and the page raised no error and no CSP violation', async () => {
    expect(requests.length).toBeGreaterThan(10);
    for (const r of requests) expect(r.url).not.toContain(TOKEN);
    const apiCalls = requests.filter((r) => r.url.includes('/kms/'));
    for (const r of apiCalls) expect(r.method).toBe('POST');
    // Each call carries the token in X-Auth-Token: the signed-in one, or the bad one of the first sign-in.
    for (const r of apiCalls) expect([TOKEN, 'not-the-token']).toContain(r.headers['x-auth-token']);
    expect(apiCalls.filter((r) => r.headers['x-auth-token'] === TOKEN).length).toBeGreaterThan(10);
    expect(svc.output()).not.toContain(TOKEN);
    expect(pageErrors).toEqual([]);
  });

  it('refreshes the list, and signing out forgets the token', async () => {
    await page.$eval('#list-status', (e) => (e.textContent = ''));
    await page.click('#refresh');
    await waitForText('#list-status', /^\d+ keys\. Updated/);
    expect(await page.$$eval('#key-rows tr', (rows) => rows.length)).toBe(Number(/^(\d+)/.exec(await text('#list-status'))![1]));
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-section:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.$$eval('#key-rows tr', (rows) => rows.length)).toBe(0);
    await page.reload({ waitUntil: 'networkidle0' });
    expect(await page.$eval('#keys-section', (e) => (e as HTMLElement).hidden)).toBe(true);
  });
});
