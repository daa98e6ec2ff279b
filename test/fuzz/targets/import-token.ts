/**
 * TokenSealer.open on outside input. Byte 0 picks the form:
 *   0: the token text as sent (latin1 of the rest);
 *   1: the rest is the binary token, base64-encoded canonically;
 *   2: the rest is a version-1 token *plaintext* sealed under the fixed key, so the parser
 *      behind the GCM tag (metaLen, claims JSON, key blob) is reached too (only a sealing-key
 *      holder can make these, but the parser must still fail with our error, not a TypeError);
 *   3: the same for a version-2 plaintext (binary claims);
 *   4: the rest after a version-3 header, MACed under the fixed key's derived MAC key, so the
 *      parser behind the MAC (claimsLen, claims, the layout of the sealed blob) is reached.
 * Any accepted token must carry well-formed claims; its key blob opens or is IMPORT_TOKEN_INVALID.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { onlyByokError, check } from '../expect.js';
import { TOKEN_KEY, TOKEN_KEY_ID, tokenSealer } from '../fixtures.js';

const sealer = tokenSealer();
export const maxLen = 6000;
export const dictionary = ['"tenant"', '"keyId"', '"algorithm"', '"keySpec"', '"materialSpec"', '"issuedAt"', '"expiresAt"', 'null', '[]', '{}', '1e309', '"RSA_2048"', '"SM2"', '"AES_256"', '=='];

function sealRaw(plaintext: Buffer, version: 1 | 2): string {
  const id = Buffer.from(TOKEN_KEY_ID, 'utf8');
  const header = Buffer.concat([Buffer.from([version, id.length]), id]);
  const iv = Buffer.alloc(12, 7);
  const c = createCipheriv('aes-256-gcm', TOKEN_KEY, iv);
  c.setAAD(header);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([header, iv, body, c.getAuthTag()]).toString('base64');
}

const macKey = Buffer.from(createHmac('sha256', TOKEN_KEY).update('byok/import-token/v3/mac').digest('hex'), 'latin1');

function macV3(rest: Buffer): string {
  const id = Buffer.from(TOKEN_KEY_ID, 'utf8');
  const body = Buffer.concat([Buffer.from([3, id.length]), id, rest]);
  const text = body.subarray(0, body.length - (body.length % 3)).toString('base64');
  return text + createHmac('sha256', macKey).update(text, 'latin1').digest('base64');
}

export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const rest = data.subarray(1);
  const form = data[0] % 5;
  const token = form === 0 ? rest.toString('latin1') : form === 1 ? rest.toString('base64') : form === 4 ? macV3(rest) : sealRaw(rest, form === 2 ? 1 : 2);
  const opened = onlyByokError(['IMPORT_TOKEN_INVALID'], () => sealer.open(token));
  if (!opened) return;
  const c = opened.claims;
  check(typeof c === 'object' && c !== null && !Array.isArray(c), 'accepted token without a claims object');
  for (const f of ['tenant', 'keyId', 'algorithm', 'keySpec', 'materialSpec'] as const) check(typeof c[f] === 'string', `accepted token with non-string ${f}`);
  for (const f of ['issuedAt', 'expiresAt'] as const) check(Number.isFinite(c[f]), `accepted token with non-numeric ${f}`);
  const blob = onlyByokError(['IMPORT_TOKEN_INVALID'], () => opened.privateKeyBlob);
  check(blob === undefined || blob instanceof Uint8Array, 'accepted token with a key blob that is no Uint8Array');
  opened.dispose();
}
