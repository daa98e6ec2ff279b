/**
 * The files of the console's import procedure, named as the Huawei console names them:
 * `wrappingKey_<key ID>_<download time>` (the wrapping public key, DER SubjectPublicKeyInfo, the
 * form `-keyform der -pubin` reads), `importToken_<key ID>_<download time>` (the token as the API
 * gives it, base64 text) and `README_<key ID>_<download time>` (what they are and when they expire).
 */

/** What get-parameters-for-import answered, as the wizard keeps it. */
export interface ImportItems {
  readonly keyId: string;
  readonly algorithm: string;
  readonly wrappingKeySpec: string;
  /** base64 DER SPKI. */
  readonly publicKey: string;
  readonly importToken: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly downloadTime: string;
  readonly files: ImportFileNames;
}

export interface ImportFileNames {
  readonly wrappingKey: string;
  readonly importToken: string;
  readonly readme: string;
}

/** The download time in file names: UTC, YYYYMMDDHHMMSS (sortable, no characters a shell quotes). */
export function downloadTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function importFileNames(keyId: string, time: string): ImportFileNames {
  return { wrappingKey: `wrappingKey_${keyId}_${time}`, importToken: `importToken_${keyId}_${time}`, readme: `README_${keyId}_${time}` };
}

/** The README file: the key, the algorithm, the two files and their common expiry. */
export function readmeText(items: ImportItems, expiresText: string): string {
  return [
    `Key ID: ${items.keyId}`,
    `Wrapping algorithm: ${items.algorithm}`,
    `Wrapping key spec: ${items.wrappingKeySpec}`,
    `Wrapping key: ${items.files.wrappingKey} (DER SubjectPublicKeyInfo)`,
    `Import token: ${items.files.importToken}`,
    `The wrapping key and the import token expire at ${expiresText}. If they have expired, download them again.`,
    '',
  ].join('\n');
}

export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Save bytes or text as a file through a short-lived blob: URL (nothing leaves the page). */
export function saveFile(name: string, content: Uint8Array | string): void {
  const blob = new Blob([typeof content === 'string' ? content : content.slice()], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * An uploaded file as the base64 the API takes: a file of base64 text (as `byok wrap` writes, or
 * the token file) is taken as it is; anything else is binary (what `openssl` writes) and encoded.
 */
export async function fileAsBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const text = new TextDecoder().decode(bytes).replace(/\s+/g, '');
  if (text.length >= 4 && /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) return text;
  return bytesToBase64(bytes);
}
