/**
 * A client for the service's Huawei-style dialect (fetch-based), and the one-step import that
 * `byok import` runs: get-parameters-for-import → wrap locally → import-key-material.
 */
import { zeroize } from '../bytes.js';
import { ByokError } from '../errors.js';
import { wrapForImport } from './wrap.js';

/** A refusal from the service: its HTTP status, KMS.xxxx code, message and request ID. */
export class ServiceError extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string, readonly requestId?: string) {
    super(`${errorCode}: ${message}`);
    this.name = 'ServiceError';
  }
}

export interface KeyInfo {
  readonly key_id: string;
  readonly key_state: string;
  readonly key_check_value?: string;
  readonly [field: string]: unknown;
}

export interface ImportParametersResponse {
  readonly key_id: string;
  readonly import_token: string;
  readonly expiration_time: number;
  readonly public_key: string;
}

export interface ServiceClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  readonly endpoint: string;
  /** The X-Auth-Token value. */
  readonly authToken: string;
  readonly projectId?: string;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
}

export class KmsServiceClient {
  private readonly base: string;
  private readonly authToken: string;
  private readonly timeoutMs: number;

  constructor(options: ServiceClientOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new ByokError('INVALID_PARAMETER', 'The endpoint must be an http(s) URL.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ByokError('INVALID_PARAMETER', 'The endpoint must be an http(s) URL.');
    const projectId = options.projectId ?? 'default';
    this.base = `${url.origin}${url.pathname.replace(/\/$/, '')}/v1.0/${encodeURIComponent(projectId)}/kms/`;
    this.authToken = options.authToken;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private async call<T>(action: string, body: Record<string, unknown>): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + action, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': this.authToken },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const cause = err.name === 'TimeoutError' ? `no answer in ${this.timeoutMs} ms` : err.cause?.code ?? err.cause?.message ?? err.name;
      throw new ServiceError(0, 'UNREACHABLE', `cannot reach ${new URL(this.base).origin} (${cause})`);
    }
    const requestId = res.headers.get('x-request-id') ?? undefined;
    const json = (await res.json().catch(() => ({}))) as { error?: { error_code?: string; error_msg?: string } };
    if (!res.ok) throw new ServiceError(res.status, json.error?.error_code ?? `HTTP ${res.status}`, json.error?.error_msg ?? res.statusText, requestId);
    return json as T;
  }

  createKey(alias: string, options: { keySpec?: 'AES_256' | 'SM4'; origin?: 'external' | 'kms'; description?: string } = {}) {
    return this.call<{ key_info: { key_id: string; domain_id: string } }>('create-key', {
      key_alias: alias, key_spec: options.keySpec ?? 'AES_256', origin: options.origin ?? 'external',
      ...(options.description !== undefined ? { key_description: options.description } : {}),
    });
  }

  getParametersForImport(keyId: string, wrappingAlgorithm: string, wrappingKeySpec?: string) {
    return this.call<ImportParametersResponse>('get-parameters-for-import', {
      key_id: keyId, wrapping_algorithm: wrappingAlgorithm, ...(wrappingKeySpec ? { wrapping_key_spec: wrappingKeySpec } : {}),
    });
  }

  importKeyMaterial(keyId: string, importToken: string, encryptedKeyMaterial: string, expirationTime?: number, encryptedPrivateKey?: string) {
    return this.call<Record<string, never>>('import-key-material', {
      key_id: keyId, import_token: importToken, encrypted_key_material: encryptedKeyMaterial,
      ...(encryptedPrivateKey !== undefined ? { encrypted_privatekey: encryptedPrivateKey } : {}),
      ...(expirationTime !== undefined ? { expiration_time: expirationTime } : {}),
    });
  }

  deleteImportedKeyMaterial(keyId: string) {
    return this.call<Record<string, never>>('delete-imported-key-material', { key_id: keyId });
  }

  describeKey(keyId: string) {
    return this.call<{ key_info: KeyInfo }>('describe-key', { key_id: keyId });
  }

  enableKey(keyId: string) {
    return this.call<{ key_info: KeyInfo }>('enable-key', { key_id: keyId });
  }

  disableKey(keyId: string) {
    return this.call<{ key_info: KeyInfo }>('disable-key', { key_id: keyId });
  }

  encryptData(keyId: string, plainText: string) {
    return this.call<{ key_id: string; cipher_text: string }>('encrypt-data', { key_id: keyId, plain_text: plainText });
  }

  decryptData(cipherText: string, keyId?: string) {
    return this.call<{ key_id: string; plain_text: string; plain_text_base64: string }>('decrypt-data', {
      cipher_text: cipherText, ...(keyId !== undefined ? { key_id: keyId } : {}),
    });
  }

  /**
   * The whole import in one step. The key (symmetric / HMAC `material`, or an asymmetric
   * `privateKey` in PEM or DER) is wrapped here, never sent in the clear, and zeroized before
   * returning (the caller's buffer is overwritten).
   */
  async importMaterial(input: {
    keyId: string; material?: Uint8Array; privateKey?: Uint8Array; wrappingAlgorithm?: string; wrappingKeySpec?: string; expirationTime?: number;
  }): Promise<KeyInfo> {
    const algorithm = input.wrappingAlgorithm ?? 'RSAES_OAEP_SHA_256';
    try {
      const params = await this.getParametersForImport(input.keyId, algorithm, input.wrappingKeySpec);
      const wrapped = wrapForImport({
        publicKey: params.public_key, algorithm,
        ...(input.privateKey !== undefined ? { privateKey: input.privateKey } : {}), ...(input.material !== undefined ? { material: input.material } : {}),
      });
      const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
      await this.importKeyMaterial(input.keyId, params.import_token, b64(wrapped.encryptedKeyMaterial), input.expirationTime,
        wrapped.encryptedPrivateKey ? b64(wrapped.encryptedPrivateKey) : undefined);
    } finally {
      zeroize(input.material, input.privateKey);
    }
    return (await this.describeKey(input.keyId)).key_info;
  }
}
