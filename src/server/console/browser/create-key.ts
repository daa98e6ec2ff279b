/**
 * Create Key / Import Key: alias, description, origin (KMS or External), key spec and the usage
 * it implies. An External key needs the "security and durability" acknowledgement of the Huawei
 * console and then goes on to the import wizard.
 */
import { callKms, ApiError, type Session } from './api.js';
import { byId, checkedValue, h, say } from './dom.js';
import { CREATABLE_SPECS } from './key-words.js';
import { refusalText } from './refusals.js';

/** What a created key is, for whoever opens the next step. */
export interface CreatedKey {
  readonly keyId: string;
  readonly keySpec: string;
  readonly external: boolean;
}

const USAGE_WORDS: Readonly<Record<string, string>> = {
  ENCRYPT_DECRYPT: 'Encrypt and decrypt (ENCRYPT_DECRYPT)', SIGN_VERIFY: 'Sign and verify (SIGN_VERIFY)', GENERATE_VERIFY_MAC: 'Generate and verify MACs (GENERATE_VERIFY_MAC)',
};

export class CreateKeyForm {
  private readonly section = byId('create-section');
  private readonly spec = byId<HTMLSelectElement>('create-spec');
  private readonly usage = byId<HTMLSelectElement>('create-usage');
  private readonly error = byId('create-error');

  constructor(private readonly session: () => Session, private readonly created: (key: CreatedKey) => Promise<void>) {
    this.spec.replaceChildren(...CREATABLE_SPECS.map((s) => h('option', { value: s.name }, s.name)));
    this.spec.addEventListener('change', () => this.showUsages());
    for (const id of ['origin-kms', 'origin-external']) byId(id).addEventListener('change', () => this.showConsent());
    byId('create-cancel').addEventListener('click', () => this.close());
    byId<HTMLFormElement>('create-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.showUsages();
  }

  /** Open as Create Key (origin KMS) or Import Key (origin External). */
  open(external: boolean): void {
    byId<HTMLFormElement>('create-form').reset();
    byId<HTMLInputElement>(external ? 'origin-external' : 'origin-kms').checked = true;
    this.showUsages();
    this.showConsent();
    say(this.error, '');
    byId('create-title').textContent = external ? 'Import Key' : 'Create Key';
    this.section.hidden = false;
    byId('create-alias').focus();
  }

  close(): void {
    this.section.hidden = true;
  }

  private showUsages(): void {
    const info = CREATABLE_SPECS.find((s) => s.name === this.spec.value) ?? CREATABLE_SPECS[0];
    this.usage.replaceChildren(h('option', { value: info.usage }, USAGE_WORDS[info.usage] ?? info.usage));
  }

  private showConsent(): void {
    byId('external-consent').hidden = checkedValue('create-origin') !== 'external';
  }

  private async submit(): Promise<void> {
    const external = checkedValue('create-origin') === 'external';
    if (external && !byId<HTMLInputElement>('create-understand').checked) {
      say(this.error, 'Select "I understand the security and durability of using an imported key" to create a key for imported material.', 'error');
      return;
    }
    const description = byId<HTMLInputElement>('create-description').value;
    try {
      const answer = await callKms<{ key_info: { key_id: string } }>(this.session(), 'create-key', {
        key_alias: byId<HTMLInputElement>('create-alias').value, key_spec: this.spec.value, key_usage: this.usage.value,
        origin: external ? 'external' : 'kms', ...(description ? { key_description: description } : {}),
      });
      this.close();
      await this.created({ keyId: answer.key_info.key_id, keySpec: this.spec.value, external });
    } catch (e) {
      say(this.error, e instanceof ApiError ? refusalText(e) : String(e), 'error');
    }
  }
}
