/**
 * Key use: encrypt / decrypt (AES-256-GCM or SM4-GCM in the engine's ciphertext blob), sign and
 * verify, generate and verify MACs, and the public key of a key pair. Each call loads the key,
 * checks its usage and state, and has the backend do the crypto on a handle released after it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { verifyDigestWithSpki } from '../algorithms/private-keys/digest-signing.js';
import { verifyWithSpki } from '../algorithms/private-keys/signing.js';
import {
  checkDigestLength, MAC_ALGORITHM_OF, MATERIAL_SPECS, parseMessageType, parseSigningAlgorithm, signingAlgorithmsFor,
  type HmacSpec, type KeyUsage, type MacAlgorithm, type MaterialSpec,
} from '../algorithms/specs.js';
import type { CryptoBackend, MaterialHandle } from '../backends/crypto-backend.js';
import { toBase64, zeroize } from '../bytes.js';
import { nowSeconds, type Clock } from '../clock.js';
import { ByokError } from '../errors.js';
import type { KeyRecord } from '../store/key-store.js';
import { buildCiphertextBlob, parseCiphertextBlob } from './ciphertext-blob.js';
import { requireMessage } from './input-checks.js';
import { effectiveState, type KeyAccess } from './key-access.js';
import { transition } from './state-machine.js';
import type {
  DataKeyResult, DecryptInput, DecryptResult, EncryptInput, EncryptResult, GenerateDataKeyInput, KeyRef, MacInput, MacResult, PublicKeyResult,
  ReEncryptInput, ReEncryptResult, SignInput, SignResult, VerifyInput, VerifyMacInput, VerifyMacResult, VerifyResult,
} from './types.js';

/** AWS's bounds for NumberOfBytes (GenerateDataKey, GenerateRandom): 1..1024. */
const MAX_RANDOM_BYTES = 1024;
const DATA_KEY_SPEC_BYTES: Readonly<Record<string, number>> = { AES_128: 16, AES_256: 32 };

/** `n` random bytes for GenerateRandom (node's CSPRNG, OpenSSL's DRBG seeded by the OS). */
export function randomOf(n: unknown): Uint8Array {
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > MAX_RANDOM_BYTES) {
    throw new ByokError('INVALID_PARAMETER', `numberOfBytes must be an integer from 1 to ${MAX_RANDOM_BYTES}.`);
  }
  return new Uint8Array(randomBytes(n as number));
}

/** A data key's length: numberOfBytes or keySpec (not both); neither: 32 bytes. */
function dataKeyLength(input: GenerateDataKeyInput): number {
  if (input.keySpec !== undefined && input.numberOfBytes !== undefined) throw new ByokError('INVALID_PARAMETER', 'Give keySpec or numberOfBytes, not both.');
  if (input.keySpec === undefined) return input.numberOfBytes ?? 32;
  const length = Object.prototype.hasOwnProperty.call(DATA_KEY_SPEC_BYTES, input.keySpec) ? DATA_KEY_SPEC_BYTES[input.keySpec] : undefined;
  if (length === undefined) throw new ByokError('INVALID_PARAMETER', 'keySpec must be AES_128 or AES_256.');
  return length;
}

export interface KeyUseParts {
  readonly backend: CryptoBackend;
  readonly keys: KeyAccess;
  readonly clock: Clock;
}

/** A key of this tenant, loaded once, with the time of the call it serves. */
interface LoadedKey {
  readonly record: KeyRecord;
  readonly now: number;
}

export class KeyUse {
  private readonly backend: CryptoBackend;

  constructor(private readonly parts: KeyUseParts) {
    this.backend = parts.backend;
  }

  async encrypt(input: EncryptInput): Promise<EncryptResult> {
    requireMessage(input.plaintext, 'plaintext');
    const key = await this.load(input);
    const body = await this.withMaterial(key, 'ENCRYPT_DECRYPT', (h) => this.backend.encrypt(h, input.plaintext, input.aad));
    return { keyId: key.record.keyId, ciphertextBlob: buildCiphertextBlob(key.record.keyId, body) };
  }

  async decrypt(input: DecryptInput): Promise<DecryptResult> {
    if (!(input.ciphertextBlob instanceof Uint8Array)) throw new ByokError('INVALID_PARAMETER', 'ciphertextBlob must be bytes.');
    const { keyId, backendCiphertext } = parseCiphertextBlob(input.ciphertextBlob);
    if (input.keyId !== undefined && (await this.parts.keys.keyIdOf({ tenant: input.tenant, keyId: input.keyId })) !== keyId) throw new ByokError('CIPHERTEXT_INVALID');
    const key = await this.load({ tenant: input.tenant, keyId });
    const plaintext = await this.withMaterial(key, 'ENCRYPT_DECRYPT', (h) => this.backend.decrypt(h, backendCiphertext, input.aad));
    return { keyId, plaintext };
  }

  /** A fresh data key, encrypted as `encrypt` would; its plaintext handed over only if asked, else zeroized. */
  async generateDataKey(input: GenerateDataKeyInput): Promise<DataKeyResult> {
    const plaintext = randomOf(dataKeyLength(input));
    let handedOver = false;
    try {
      const { keyId, ciphertextBlob } = await this.encrypt({ tenant: input.tenant, keyId: input.keyId, plaintext, ...(input.aad !== undefined ? { aad: input.aad } : {}) });
      handedOver = input.withPlaintext === true;
      return { keyId, ciphertextBlob, ...(handedOver ? { plaintext } : {}) };
    } finally {
      if (!handedOver) zeroize(plaintext);
    }
  }

  /** Decrypt, then encrypt under the destination key; the plaintext is zeroized in between. */
  async reEncrypt(input: ReEncryptInput): Promise<ReEncryptResult> {
    const source = await this.decrypt({
      tenant: input.tenant, ciphertextBlob: input.ciphertextBlob,
      ...(input.sourceKeyId !== undefined ? { keyId: input.sourceKeyId } : {}), ...(input.sourceAad !== undefined ? { aad: input.sourceAad } : {}),
    });
    try {
      const r = await this.encrypt({
        tenant: input.tenant, keyId: input.destinationKeyId ?? source.keyId, plaintext: source.plaintext,
        ...(input.destinationAad !== undefined ? { aad: input.destinationAad } : {}),
      });
      return { sourceKeyId: source.keyId, keyId: r.keyId, ciphertextBlob: r.ciphertextBlob };
    } finally {
      zeroize(source.plaintext);
    }
  }

  async getPublicKey(ref: KeyRef): Promise<PublicKeyResult> {
    const key = await this.load(ref);
    const spki = await this.withMaterial(key, 'SIGN_VERIFY', (h) => this.backend.publicKey(h));
    const { keyId, materialSpec } = key.record;
    return { keyId, keySpec: materialSpec, publicKey: toBase64(spki), signingAlgorithms: signingAlgorithmsFor(materialSpec) };
  }

  async sign(input: SignInput): Promise<SignResult> {
    const message = requireMessage(input.message);
    const messageType = parseMessageType(input.messageType);
    const key = await this.load(input);
    const signingAlgorithm = parseSigningAlgorithm(input.signingAlgorithm, key.record.materialSpec);
    const signature = await this.withMaterial(key, 'SIGN_VERIFY', (h) => this.backend.sign(h, signingAlgorithm, message, messageType));
    return { keyId: key.record.keyId, signingAlgorithm, signature };
  }

  /** Verification needs only the public key: the same code for both backends. */
  async verify(input: VerifyInput): Promise<VerifyResult> {
    const message = requireMessage(input.message);
    if (!(input.signature instanceof Uint8Array) || input.signature.length === 0 || input.signature.length > 1024) {
      throw new ByokError('INVALID_PARAMETER', 'signature must be 1 to 1024 bytes.');
    }
    const messageType = parseMessageType(input.messageType);
    const key = await this.load(input);
    const signingAlgorithm = parseSigningAlgorithm(input.signingAlgorithm, key.record.materialSpec);
    checkDigestLength(signingAlgorithm, messageType, message);
    const spki = await this.withMaterial(key, 'SIGN_VERIFY', (h) => this.backend.publicKey(h));
    const verify = messageType === 'DIGEST' ? verifyDigestWithSpki : verifyWithSpki;
    return { keyId: key.record.keyId, signatureValid: verify(spki, signingAlgorithm, message, input.signature) };
  }

  async generateMac(input: MacInput): Promise<MacResult> {
    const message = requireMessage(input.message);
    const key = await this.load(input);
    const macAlgorithm = macAlgorithmFor(key.record.materialSpec, input.macAlgorithm);
    const mac = await this.withMaterial(key, 'GENERATE_VERIFY_MAC', (h) => this.backend.generateMac(h, message));
    return { keyId: key.record.keyId, macAlgorithm, mac };
  }

  async verifyMac(input: VerifyMacInput): Promise<VerifyMacResult> {
    const message = requireMessage(input.message);
    if (!(input.mac instanceof Uint8Array)) throw new ByokError('INVALID_PARAMETER', 'mac must be bytes.');
    const key = await this.load(input);
    macAlgorithmFor(key.record.materialSpec, input.macAlgorithm);
    const expected = await this.withMaterial(key, 'GENERATE_VERIFY_MAC', (h) => this.backend.generateMac(h, message));
    // Constant time over the MAC's length; a wrong length is simply not valid.
    const macValid = expected.length === input.mac.length && timingSafeEqual(expected, input.mac);
    return { keyId: key.record.keyId, macValid };
  }

  private async load(ref: KeyRef): Promise<LoadedKey> {
    const now = nowSeconds(this.parts.clock);
    return { record: await this.parts.keys.load(ref, now), now };
  }

  /** The key's material as a handle, if its spec is for `usage` and its state allows use. */
  private async withMaterial<T>({ record, now }: LoadedKey, usage: KeyUsage, fn: (handle: MaterialHandle) => Promise<T>): Promise<T> {
    if (MATERIAL_SPECS[record.materialSpec].usage !== usage) {
      throw new ByokError('INVALID_KEY_USAGE', `A ${record.materialSpec} key is for ${MATERIAL_SPECS[record.materialSpec].usage}, not ${usage}.`);
    }
    transition('useMaterial', effectiveState(record, now));
    if (!record.storedMaterial) throw new ByokError('KEY_STATE_UNSUPPORTED');
    const handle = await this.backend.loadMaterial(record.storedMaterial, record.materialSpec, record.keyId);
    try {
      return await fn(handle);
    } finally {
      await this.backend.release(handle);
    }
  }
}

/** An HMAC key computes its own algorithm only; a caller that names one must name that. */
function macAlgorithmFor(spec: MaterialSpec, requested: unknown): MacAlgorithm {
  const own = MAC_ALGORITHM_OF[spec as HmacSpec];
  if (own === undefined) throw new ByokError('INVALID_KEY_USAGE', `A ${spec} key is for ${MATERIAL_SPECS[spec].usage}, not GENERATE_VERIFY_MAC.`);
  if (requested !== undefined && requested !== own) throw new ByokError('INVALID_PARAMETER', `A ${spec} key computes ${own} only.`);
  return own;
}
