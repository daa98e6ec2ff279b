/**
 * The import wizard, step by step as the Huawei console guide has it: (1) choose the wrapping
 * algorithm and wrapping key spec and download the wrapping key, the import token and a README,
 * with their expiry; (2) encrypt the material, with the OpenSSL commands filled in with the
 * downloaded file name, or in this browser; (3) upload the encrypted material (and, for a private
 * key, the encrypted private key); (4) upload the token and choose the material's expiry mode.
 * The result, or the refusal in words.
 */
import { WRAPPING_ALGORITHMS, type MaterialSpecInfo, type WrappingAlgorithm } from '../../../algorithms/specs.js';
import { ApiError, callKms, type Session } from './api.js';
import { browserWrapUnavailable, generateMaterial, wrapInBrowser } from './browser-wrap.js';
import { byId, checkedValue, h, say } from './dom.js';
import {
  base64ToBytes, bytesToBase64, downloadTime, fileAsBase64, importFileNames, readmeText, saveFile, type ImportItems,
} from './import-files.js';
import { specInfo, utcText } from './key-words.js';
import { FILES, opensslSteps } from './openssl-commands.js';
import { refusalText } from './refusals.js';

/** Table 1 of the guide, then the algorithms the service adds, with what each is. */
const ALGORITHMS: readonly { readonly name: WrappingAlgorithm; readonly description: string }[] = [
  { name: 'RSAES_OAEP_SHA_256', description: 'RSA encryption algorithm that uses OAEP and has the SHA-256 hash function. If your HSM supports it, use RSAES_OAEP_SHA_256 to encrypt the key material.' },
  { name: 'RSAES_PKCS1_V1_5', description: 'RSA encryption algorithm (v1.5) of Public-Key Cryptography Standards number 1 (PKCS #1). Use it only if your HSM does not support OAEP.' },
  { name: 'RSAES_OAEP_SHA_1', description: 'RSA encryption algorithm that uses Optimal Asymmetric Encryption Padding (OAEP) and has the SHA-1 hash function.' },
  { name: 'SM2_ENCRYPT', description: 'SM2 public key encryption (GM/T 0003.4) with an SM2 wrapping key.' },
  { name: 'RSA_AES_KEY_WRAP_SHA_256', description: 'RSA-OAEP (SHA-256) of a temporary AES-256 key, followed by the key wrapped under it (AES key wrap with padding, RFC 5649), as one blob.' },
  { name: 'RSA_AES_KEY_WRAP_SHA_1', description: 'RSA-OAEP (SHA-1) of a temporary AES-256 key, followed by the key wrapped under it (RFC 5649), as one blob.' },
];

const RSA_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;

interface ParametersAnswer {
  readonly key_id: string;
  readonly public_key: string;
  readonly import_token: string;
  readonly expiration_time: number;
}

export class ImportWizard {
  private readonly section = byId('import-section');
  private readonly algorithm = byId<HTMLSelectElement>('wrapping-algorithm');
  private readonly keySpec = byId<HTMLSelectElement>('wrapping-key-spec');
  private readonly result = byId('import-result');
  private keyId = '';
  private spec: MaterialSpecInfo | undefined;
  private items: ImportItems | undefined;
  /** The ciphertext made in this browser: the only form of the material a request may carry. */
  private browserCiphertext: Uint8Array<ArrayBuffer> | undefined;
  /** Material generated in this page; zeroed when the wizard closes. */
  private generated: Uint8Array<ArrayBuffer> | undefined;

  constructor(private readonly session: () => Session, private readonly imported: () => void) {
    this.algorithm.replaceChildren(...ALGORITHMS.map((a) => h('option', { value: a.name }, a.name)));
    this.algorithm.addEventListener('change', () => this.algorithmChanged());
    byId('download').addEventListener('click', () => void this.download());
    byId('browser-encrypt').addEventListener('click', () => void this.encryptInBrowser());
    byId('save-plain-material').addEventListener('click', () => {
      if (this.generated) saveFile(FILES.plaintext, this.generated);
    });
    for (const id of ['material-generate', 'material-file-choice']) byId(id).addEventListener('change', () => this.materialSourceChanged());
    for (const id of ['expiry-never', 'expiry-on']) byId(id).addEventListener('change', () => this.expiryModeChanged());
    byId('import-close').addEventListener('click', () => this.close());
    byId<HTMLFormElement>('import-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
  }

  /** Open for one key (its key_spec as describe-key names it). */
  open(keyId: string, keySpec: string): void {
    this.forget();
    this.keyId = keyId;
    this.spec = specInfo(keySpec);
    byId('import-key-id').textContent = keyId;
    byId('import-key-spec').textContent = `(${keySpec})`;
    byId<HTMLFormElement>('import-form').reset();
    byId<HTMLInputElement>('plain-material-file').value = '';
    byId<HTMLInputElement>('material-generate').checked = true;
    this.algorithm.value = this.spec?.name === 'SM2' ? 'SM2_ENCRYPT' : 'RSAES_OAEP_SHA_256';
    byId('download-result').replaceChildren();
    say(byId('browser-wrap-result'), '');
    say(this.result, '');
    this.materialSourceChanged();
    this.expiryModeChanged();
    this.algorithmChanged();
    this.section.hidden = false;
    byId('import-title').focus();
  }

  close(): void {
    this.forget();
    this.section.hidden = true;
  }

  /** Drop the downloaded items and zero whatever material this page held. */
  private forget(): void {
    this.generated?.fill(0);
    this.generated = undefined;
    this.browserCiphertext = undefined;
    this.items = undefined;
    byId<HTMLButtonElement>('save-plain-material').disabled = true;
  }

  private selectedAlgorithm(): WrappingAlgorithm {
    return this.algorithm.value as WrappingAlgorithm;
  }

  private algorithmChanged(): void {
    const algorithm = this.selectedAlgorithm();
    byId('algorithm-description').textContent = ALGORITHMS.find((a) => a.name === algorithm)?.description ?? '';
    byId('sha1-notice').hidden = !algorithm.endsWith('_SHA_1');
    const specs = WRAPPING_ALGORITHMS[algorithm].family === 'SM2' ? ['SM2'] : RSA_SPECS;
    this.keySpec.replaceChildren(...specs.map((s) => h('option', { value: s }, s)));
    // A download is for one algorithm: choosing another means downloading again.
    if (this.items && this.items.algorithm !== algorithm) {
      this.items = undefined;
      this.browserCiphertext = undefined;
      byId('download-result').replaceChildren(h('p', {}, 'The algorithm changed: download the import items again.'));
    }
    const twoFields = this.spec?.kind === 'private-key' && !WRAPPING_ALGORITHMS[algorithm].envelope;
    byId('private-key-upload-field').hidden = !twoFields;
    this.showCommands();
    this.showBrowserWrap();
  }

  private showCommands(): void {
    const list = byId('openssl-steps');
    if (!this.spec) {
      list.replaceChildren(h('li', {}, 'This key spec is unknown to the console.'));
      return;
    }
    const wrappingKey = this.items?.files.wrappingKey ?? `wrappingKey_${this.keyId}_<download time>`;
    list.replaceChildren(...opensslSteps(this.selectedAlgorithm(), this.spec, wrappingKey).map((step) => h('li', {},
      h('p', {}, step.what), h('pre', {}, h('code', { class: 'command' }, step.command)))));
  }

  private showBrowserWrap(): void {
    const why = this.spec ? browserWrapUnavailable(this.selectedAlgorithm(), this.spec) : 'This key spec is unknown to the console.';
    say(byId('browser-wrap-status'), why ?? `${this.selectedAlgorithm()} with WebCrypto: the material is encrypted in this page and only the ciphertext is sent.`);
    byId('browser-wrap-controls').hidden = why !== undefined;
  }

  private materialSourceChanged(): void {
    byId<HTMLInputElement>('plain-material-file').disabled = checkedValue('material-source') !== 'file';
  }

  private expiryModeChanged(): void {
    const date = byId<HTMLInputElement>('expiry-date');
    date.disabled = checkedValue('expiry-mode') !== 'on';
    if (!date.disabled && !date.value) {
      // Default: 24 hours from now, in the browser's zone (what datetime-local shows).
      const t = new Date(Date.now() + 86_400_000 - new Date().getTimezoneOffset() * 60_000);
      date.value = t.toISOString().slice(0, 16);
    }
  }

  /** Step 1: get-parameters-for-import, then save wrappingKey_, importToken_ and README_ files. */
  private async download(): Promise<void> {
    const out = byId('download-result');
    const algorithm = this.selectedAlgorithm();
    try {
      const p = await callKms<ParametersAnswer>(this.session(), 'get-parameters-for-import', {
        key_id: this.keyId, wrapping_algorithm: algorithm, wrapping_key_spec: this.keySpec.value,
      });
      const time = downloadTime(new Date());
      this.items = {
        keyId: this.keyId, algorithm, wrappingKeySpec: this.keySpec.value, publicKey: p.public_key, importToken: p.import_token,
        expiresAt: p.expiration_time, downloadTime: time, files: importFileNames(this.keyId, time),
      };
      this.browserCiphertext = undefined;
      const expires = utcText(p.expiration_time * 1000);
      const { files } = this.items;
      const contents: [string, Uint8Array | string][] = [
        [files.wrappingKey, base64ToBytes(p.public_key)],
        [files.importToken, p.import_token],
        [files.readme, readmeText(this.items, expires)],
      ];
      for (const [name, content] of contents) saveFile(name, content);
      out.replaceChildren(
        h('p', { class: 'ok' }, `Downloaded. The wrapping key and import token expire at ${expires}.`),
        h('ul', { class: 'files' }, ...contents.map(([name, content]) => {
          const again = h('button', { type: 'button', 'aria-label': `Save ${name} again` }, 'Save again');
          again.addEventListener('click', () => saveFile(name, content));
          return h('li', {}, h('code', { 'data-file': name }, name), ' ', again);
        })),
      );
      this.showCommands();
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error' }, e instanceof ApiError ? refusalText(e) : String(e)));
    }
  }

  /** Step 2, in this browser: WebCrypto RSA-OAEP of generated or chosen material. */
  private async encryptInBrowser(): Promise<void> {
    const out = byId('browser-wrap-result');
    if (!this.items || !this.spec) return say(out, 'Download the import items first (step 1): the page encrypts with that wrapping key.', 'error');
    if (this.items.expiresAt * 1000 <= Date.now()) return say(out, 'The wrapping key has expired: download the import items again.', 'error');
    let material: Uint8Array<ArrayBuffer>;
    if (checkedValue('material-source') === 'file') {
      const file = byId<HTMLInputElement>('plain-material-file').files?.[0];
      if (!file) return say(out, 'Choose the plaintext key material file.', 'error');
      material = new Uint8Array(await file.arrayBuffer());
    } else {
      this.generated?.fill(0);
      this.generated = generateMaterial(this.spec);
      material = this.generated;
    }
    if (material.length !== this.spec.length) {
      if (material !== this.generated) material.fill(0);
      return say(out, `${this.spec.name} material is ${this.spec.length} bytes; this file has ${material.length}.`, 'error');
    }
    try {
      this.browserCiphertext = await wrapInBrowser(this.selectedAlgorithm(), this.items.publicKey, material);
    } finally {
      if (material !== this.generated) material.fill(0);
    }
    byId<HTMLButtonElement>('save-plain-material').disabled = this.generated === undefined;
    say(out, `Encrypted in this browser (${this.browserCiphertext.length} bytes of ciphertext), ready to import in step 3.${this.generated ? ' Save the generated material first: the service never gives it back.' : ''}`, 'ok');
  }

  /** Steps 3 and 4: import-key-material with the uploaded (or in-page) material and token. */
  private async submit(): Promise<void> {
    try {
      const body = await this.importBody();
      await callKms(this.session(), 'import-key-material', body);
      say(this.result, 'Key material imported: the key is Enabled.', 'ok');
      this.imported();
    } catch (e) {
      say(this.result, e instanceof ApiError ? refusalText(e) : e instanceof Error ? e.message : String(e), 'error');
    }
  }

  private async importBody(): Promise<Record<string, unknown>> {
    const materialFile = byId<HTMLInputElement>('material-upload').files?.[0];
    const tokenFile = byId<HTMLInputElement>('token-upload').files?.[0];
    const token = tokenFile ? (await tokenFile.text()).trim() : this.items?.importToken;
    if (!token) throw new Error('Choose the importToken file (step 4), or download the import items (step 1).');
    if (!tokenFile && this.items && this.items.expiresAt * 1000 <= Date.now()) throw new Error('The import token has expired: download the import items again.');
    const encrypted = materialFile ? await fileAsBase64(materialFile) : this.browserCiphertext ? bytesToBase64(this.browserCiphertext) : undefined;
    if (!encrypted) throw new Error('Choose the encrypted key material file (step 3), or encrypt in this browser (step 2).');
    const body: Record<string, unknown> = { key_id: this.keyId, import_token: token, encrypted_key_material: encrypted };
    if (!byId('private-key-upload-field').hidden) {
      const privateKeyFile = byId<HTMLInputElement>('private-key-upload').files?.[0];
      if (!privateKeyFile) throw new Error('Choose the encrypted private key file (EncryptedPrivateKey.bin).');
      body.encrypted_privatekey = await fileAsBase64(privateKeyFile);
    }
    if (checkedValue('expiry-mode') === 'on') {
      const when = new Date(byId<HTMLInputElement>('expiry-date').value).getTime();
      if (!Number.isFinite(when) || when <= Date.now()) throw new Error('Choose an expiry date and time in the future.');
      body.expiration_time = Math.floor(when / 1000);
    }
    return body;
  }
}
