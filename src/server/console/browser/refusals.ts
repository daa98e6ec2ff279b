/**
 * A refused call explained in words: what the Huawei error code means for the person at the
 * console and what to do next. The service's own message is shown beside it.
 */
import type { ApiError } from './api.js';

const WORDS: Readonly<Record<string, string>> = {
  'KMS.2314': 'Refused: the material is not the one this key was first given. A key only ever takes the material imported first; import that same material, or create a new key for new material.',
  'KMS.2312': 'Refused: the import token has expired (the wrapping key and the token expire together, 24 hours after the download unless the service says otherwise). Download them again, encrypt the material with the new wrapping key and import with the new token.',
  'KMS.2311': 'Refused: the token file is not an import token of this key (a token of another key, a damaged file, or not a token). Upload the importToken file downloaded for this key.',
  'KMS.2310': 'Refused: the encrypted material could not be decrypted with this token\'s wrapping key. Encrypt it with the wrappingKey file downloaded together with this token (not an older one), with the algorithm chosen in step 1, and upload the encrypted file, not the plaintext.',
  'KMS.2313': 'Refused: this token has used up its failed attempts. Download a new wrapping key and token and encrypt the material again.',
  'KMS.2315': 'Refused: the key\'s state does not allow this (a key pending deletion takes no material: cancel the deletion first).',
  'KMS.2316': 'Refused: only keys of External origin take imported material.',
  'KMS.2318': 'Refused: the private key is not a PKCS#8 key of this key\'s spec. Convert it with openssl pkcs8 -topk8 -nocrypt -outform DER and wrap it again.',
  'KMS.2317': 'Refused: this service cannot use that algorithm or key spec.',
  'KMS.2301': 'The key does not exist (or belongs to another tenant).',
  'KMS.2300': 'Refused: a field is invalid.',
  'KMS.0401': 'Not signed in, or the API token is not valid: sign in again.',
  'APIG.0308': 'Too many requests: wait a second and try again.',
  'KMS.0503': 'The service is unavailable just now: try again shortly.',
  NETWORK: 'The service could not be reached.',
};

/** The words for a refusal, then the code and the service's message. */
export function refusalText(error: ApiError): string {
  const words = WORDS[error.code];
  return words ? `${words} (${error.code}: ${error.message})` : `${error.code}: ${error.message}`;
}
