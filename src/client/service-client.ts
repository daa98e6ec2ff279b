/**
 * A client for the service's Huawei-style dialect (fetch-based), and the one-step import that
 * `byok import` runs: get-parameters-for-import → wrap locally → import-key-material.
 */
import { parseWrappingAlgorithm } from '../algorithms/specs.js';
import { zeroize } from '../bytes.js';
import { ByokError } from '../errors.js';
import { wrapForImport } from './wrap.js';

/** A refusal from the service: its HTTP status, KMS.xxxx code, message and request ID. */
export class ServiceError extends Error {
  /**
   * @param status The HTTP status (0 when the service could not be reached).
   * @param errorCode The service's KMS.xxxx code, `UNREACHABLE`, or `HTTP <status>` without one.
   * @param message The service's error message.
   * @param requestId The response's x-request-id, for the service's logs.
   */
  constructor(readonly status: number, readonly errorCode: string, message: string, readonly requestId?: string) {
    super(`${errorCode}: ${message}`);
    this.name = 'ServiceError';
  }
}

/** A key as describe-key returns it (Huawei's key_info); fields not listed are passed through. */
export interface KeyInfo {
  /** The key ID (a UUID). */
  readonly key_id: string;
  /** The key state code (e.g. "2" enabled, "5" pending import). */
  readonly key_state: string;
  /** A check value of imported symmetric material, when the service reports one. */
  readonly key_check_value?: string;
  /** Any other field of key_info. */
  readonly [field: string]: unknown;
}

/** get-parameters-for-import's answer. */
export interface ImportParametersResponse {
  /** The key the parameters are for. */
  readonly key_id: string;
  /** The import token to send back with the wrapped material. */
  readonly import_token: string;
  /** When the token and the wrapping key expire (seconds since the epoch). */
  readonly expiration_time: number;
  /** The wrapping public key: base64 DER SubjectPublicKeyInfo. */
  readonly public_key: string;
}

/** Where the service is and how to authenticate to it. */
export interface ServiceClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  readonly endpoint: string;
  /** The X-Auth-Token value. */
  readonly authToken: string;
  /** The project in the URL path (default "default"). */
  readonly projectId?: string;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
}

/** What {@link KmsServiceClient.importMaterial} imports: exactly one of `material` and `privateKey`. */
export interface ImportMaterialInput {
  /** The key to import into (origin external). */
  readonly keyId: string;
  /** Symmetric or HMAC key bytes (zeroized afterwards). */
  readonly material?: Uint8Array;
  /** An asymmetric private key, PEM or DER (PKCS#8, SEC1 or PKCS#1; zeroized afterwards). */
  readonly privateKey?: Uint8Array;
  /** Default RSAES_OAEP_SHA_256; the service checks the name. */
  readonly wrappingAlgorithm?: string;
  /** The wrapping key spec (the service's default for the algorithm otherwise). */
  readonly wrappingKeySpec?: string;
  /** When the material expires (seconds since the epoch); none by default. */
  readonly expirationTime?: number;
}

/** A client for the service's Huawei-style dialect: one method per action, errors as {@link ServiceError}. */
export class KmsServiceClient {
  private readonly base: string;
  private readonly authToken: string;
  private readonly timeoutMs: number;

  /** Check the endpoint (an http(s) URL; INVALID_PARAMETER otherwise); no request is made. */
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
    // KMS nests its errors under "error"; the API gateway's (APIG.*: authentication, throttling) are flat.
    const json = (await res.json().catch(() => ({}))) as { error?: { error_code?: string; error_msg?: string }; error_code?: string; error_msg?: string };
    if (!res.ok) {
      throw new ServiceError(res.status, json.error?.error_code ?? json.error_code ?? `HTTP ${res.status}`, json.error?.error_msg ?? json.error_msg ?? res.statusText, requestId);
    }
    return json as T;
  }

  /** create-key: a new key (by default AES_256 of origin external, awaiting import). */
  createKey(alias: string, options: { keySpec?: 'AES_256' | 'SM4'; origin?: 'external' | 'kms'; description?: string } = {}) {
    return this.call<{ key_info: { key_id: string; domain_id: string } }>('create-key', {
      key_alias: alias, key_spec: options.keySpec ?? 'AES_256', origin: options.origin ?? 'external',
      ...(options.description !== undefined ? { key_description: options.description } : {}),
    });
  }

  /** get-parameters-for-import: a wrapping public key and an import token for `keyId`. */
  getParametersForImport(keyId: string, wrappingAlgorithm: string, wrappingKeySpec?: string) {
    return this.call<ImportParametersResponse>('get-parameters-for-import', {
      key_id: keyId, wrapping_algorithm: wrappingAlgorithm, ...(wrappingKeySpec ? { wrapping_key_spec: wrappingKeySpec } : {}),
    });
  }

  /** import-key-material: the wrapped material (base64) under the token; `encryptedPrivateKey` for Huawei's second field. */
  importKeyMaterial(keyId: string, importToken: string, encryptedKeyMaterial: string, expirationTime?: number, encryptedPrivateKey?: string) {
    return this.call<Record<string, never>>('import-key-material', {
      key_id: keyId, import_token: importToken, encrypted_key_material: encryptedKeyMaterial,
      ...(encryptedPrivateKey !== undefined ? { encrypted_privatekey: encryptedPrivateKey } : {}),
      ...(expirationTime !== undefined ? { expiration_time: expirationTime } : {}),
    });
  }

  /** delete-imported-key-material: the key goes back to pending import. */
  deleteImportedKeyMaterial(keyId: string) {
    return this.call<Record<string, never>>('delete-imported-key-material', { key_id: keyId });
  }

  /** describe-key. */
  describeKey(keyId: string) {
    return this.call<{ key_info: KeyInfo }>('describe-key', { key_id: keyId });
  }

  /** enable-key. */
  enableKey(keyId: string) {
    return this.call<{ key_info: KeyInfo }>('enable-key', { key_id: keyId });
  }

  /** disable-key. */
  disableKey(keyId: string) {
    return this.call<{ key_info: KeyInfo }>('disable-key', { key_id: keyId });
  }

  /** encrypt-data: `plainText` (UTF-8 text) under the key; the ciphertext blob is base64. */
  encryptData(keyId: string, plainText: string) {
    return this.call<{ key_id: string; cipher_text: string }>('encrypt-data', { key_id: keyId, plain_text: plainText });
  }

  /** decrypt-data: a ciphertext blob from encrypt-data back to its plaintext. */
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
  async importMaterial(input: ImportMaterialInput): Promise<KeyInfo> {
    const algorithm = input.wrappingAlgorithm ?? 'RSAES_OAEP_SHA_256';
    try {
      const params = await this.getParametersForImport(input.keyId, algorithm, input.wrappingKeySpec);
      const wrapped = wrapForImport({
        // The service accepted the name, so it is one of the table's (or an alias).
        publicKey: params.public_key, algorithm: parseWrappingAlgorithm(algorithm),
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
