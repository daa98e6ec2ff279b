/**
 * The OpenSSL commands of the Huawei console guide (Table 2), filled in with the downloaded
 * wrapping key's file name, for the chosen algorithm and the key's spec. Symmetric and HMAC
 * material is encrypted directly; a private key travels as Huawei's two fields (a temporary
 * AES-256 key under the wrapping key, the PKCS#8 key under it with RFC 5649 key wrap with
 * padding, which OpenSSL 3's `enc -id-aes256-wrap-pad` does); the RSA_AES_KEY_WRAP algorithms
 * take one blob, the two parts concatenated.
 */
import { WRAPPING_ALGORITHMS, type MaterialSpecInfo, type WrappingAlgorithm } from '../../../algorithms/specs.js';

/** One step: what it does, and the command (one line, file names without spaces). */
export interface CommandStep {
  readonly what: string;
  readonly command: string;
}

/** The files the commands read and write. */
export const FILES = {
  plaintext: 'PlaintextKeyMaterial.bin',
  encrypted: 'EncryptedKeyMaterial.bin',
  temporaryKey: 'TemporaryAesKey.bin',
  privateKeyPem: 'PrivateKey.pem',
  privateKeyDer: 'PrivateKey.der',
  encryptedPrivateKey: 'EncryptedPrivateKey.bin',
  wrappedKeyPart: 'WrappedKey.bin',
} as const;

/** Table 2: encrypt `input` with the wrapping key for `algorithm` (the RSA-OAEP half for the envelopes). */
function encryptCommand(algorithm: WrappingAlgorithm, wrappingKey: string, input: string, output: string): string {
  const info = WRAPPING_ALGORITHMS[algorithm];
  const padding = info.rsaPadding;
  if (!padding) return `openssl pkeyutl -encrypt -in ${input} -inkey ${wrappingKey} -keyform der -pubin -out ${output}`;
  if (padding.kind === 'pkcs1v15') return `openssl rsautl -encrypt -in ${input} -pkcs -inkey ${wrappingKey} -keyform der -pubin -out ${output}`;
  return `openssl pkeyutl -in ${input} -inkey ${wrappingKey} -out ${output} -keyform der -pubin -encrypt -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:${padding.hash}`;
}

/** RFC 5649 wrap of `input` under the temporary key (hex from od: POSIX, no xxd needed). */
function keyWrapCommand(input: string, output: string): string {
  return `openssl enc -id-aes256-wrap-pad -K $(od -An -tx1 -v ${FILES.temporaryKey} | tr -d ' \\n') -iv A65959A6 -in ${input} -out ${output}`;
}

/** The commands, in order, for material of `spec` wrapped with `algorithm` under `wrappingKey` (a file name). */
export function opensslSteps(algorithm: WrappingAlgorithm, spec: MaterialSpecInfo, wrappingKey: string): CommandStep[] {
  const envelope = WRAPPING_ALGORITHMS[algorithm].envelope === true;
  const privateKey = spec.kind === 'private-key';
  const secret: CommandStep[] = privateKey
    ? [{ what: `Convert your private key (${FILES.privateKeyPem}) to PKCS#8 DER.`, command: `openssl pkcs8 -topk8 -nocrypt -in ${FILES.privateKeyPem} -outform DER -out ${FILES.privateKeyDer}` }]
    : [{ what: `Generate the key material (${spec.length} bytes for ${spec.name}), or use your own.`, command: `openssl rand -out ${FILES.plaintext} ${spec.length}` }];
  const secretFile = privateKey ? FILES.privateKeyDer : FILES.plaintext;
  if (!envelope && !privateKey) {
    return [...secret, { what: `Encrypt it with the downloaded wrapping key (${algorithm}).`, command: encryptCommand(algorithm, wrappingKey, FILES.plaintext, FILES.encrypted) }];
  }
  const temporary: CommandStep = { what: 'Generate a temporary AES-256 key.', command: `openssl rand -out ${FILES.temporaryKey} 32` };
  if (!envelope) {
    return [
      ...secret, temporary,
      { what: `Encrypt the temporary key with the downloaded wrapping key (${algorithm}): the encrypted key material.`, command: encryptCommand(algorithm, wrappingKey, FILES.temporaryKey, FILES.encrypted) },
      { what: 'Wrap the private key under the temporary key (AES key wrap with padding, RFC 5649): the encrypted private key.', command: keyWrapCommand(FILES.privateKeyDer, FILES.encryptedPrivateKey) },
    ];
  }
  return [
    ...secret, temporary,
    { what: `Encrypt the temporary key with the downloaded wrapping key (RSA-OAEP of ${algorithm}).`, command: encryptCommand(algorithm, wrappingKey, FILES.temporaryKey, FILES.encrypted + '.part1') },
    { what: 'Wrap the key under the temporary key (AES key wrap with padding, RFC 5649).', command: keyWrapCommand(secretFile, FILES.wrappedKeyPart) },
    { what: 'Join the two parts: the encrypted key material.', command: `cat ${FILES.encrypted}.part1 ${FILES.wrappedKeyPart} > ${FILES.encrypted}` },
  ];
}
