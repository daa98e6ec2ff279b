/** A small client for the service's Huawei-style dialect (used by `byok import`). */
import { ByokError } from '../errors.js';

export class ServiceError extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string) {
    super(`${errorCode}: ${message}`);
    this.name = 'ServiceError';
  }
}

export class KmsServiceClient {
  constructor(
    private readonly endpoint: string,
    private readonly projectId: string,
    private readonly authToken: string,
  ) {
    if (!/^https?:\/\//.test(endpoint)) throw new ByokError('INVALID_PARAMETER', 'The endpoint must be an http(s) URL.');
  }

  private async call<T>(action: string, body: Record<string, unknown>): Promise<T> {
    const res = await fetch(`${this.endpoint.replace(/\/$/, '')}/v1.0/${encodeURIComponent(this.projectId)}/kms/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': this.authToken },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { error_code: string; error_msg: string } } & T;
    if (!res.ok) throw new ServiceError(res.status, json.error?.error_code ?? `HTTP ${res.status}`, json.error?.error_msg ?? res.statusText);
    return json;
  }

  createKey(alias: string, keySpec: 'AES_256' | 'SM4' = 'AES_256') {
    return this.call<{ key_info: { key_id: string } }>('create-key', { key_alias: alias, key_spec: keySpec, origin: 'external' });
  }

  getParametersForImport(keyId: string, wrappingAlgorithm: string, wrappingKeySpec?: string) {
    return this.call<{ key_id: string; import_token: string; expiration_time: number; public_key: string }>('get-parameters-for-import', {
      key_id: keyId, wrapping_algorithm: wrappingAlgorithm, ...(wrappingKeySpec ? { wrapping_key_spec: wrappingKeySpec } : {}),
    });
  }

  importKeyMaterial(keyId: string, importToken: string, encryptedKeyMaterial: string, expirationTime?: number) {
    return this.call<Record<string, never>>('import-key-material', {
      key_id: keyId, import_token: importToken, encrypted_key_material: encryptedKeyMaterial,
      ...(expirationTime !== undefined ? { expiration_time: expirationTime } : {}),
    });
  }

  describeKey(keyId: string) {
    return this.call<{ key_info: Record<string, string> }>('describe-key', { key_id: keyId });
  }
}
