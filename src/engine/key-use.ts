/**
 * Key use: encrypt / decrypt (AES-256-GCM or SM4-GCM in the engine's ciphertext blob), sign and
 * verify, generate and verify MACs, and the public key of a key pair. Each call loads the key,
 * checks its usage and state, and has the backend do the crypto on a handle released after it.
 */
import { timingSafeEqual } from 'node:crypto';
import { verifyWithSpki } from '../algorithms/private-keys/signing.js';
import {
  MAC_ALGORITHM_OF, MATERIAL_SPECS, parseSigningAlgorithm, signingAlgorithmsFor,
  type HmacSpec, type KeyUsage, type MacAlgorithm, type MaterialSpec,
} from '../algorithms/specs.js';
import type { CryptoBackend, MaterialHandle } from '../backends/crypto-backend.js';
import { toBase64 } from '../bytes.js';
import { nowSeconds, type Clock } from '../clock.js';
import { ByokError } from '../errors.js';
import type { KeyRecord } from '../store/key-store.js';
import { buildCiphertextBlob, parseCiphertextBlob } from './ciphertext-blob.js';
import { requireMessage } from './input-checks.js';
import { effectiveState, type KeyAccess } from './key-access.js';
import { transition } from './state-machine.js';
import type {
  DecryptInput, DecryptResult, EncryptInput, EncryptResult, KeyRef, MacInput, MacResult, PublicKeyResult, SignInput, SignResult,
  VerifyInput, VerifyMacInput, VerifyMacResult, VerifyResult,
} from './types.js';

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
    if (input.keyId !== undefined && input.keyId !== keyId) throw new ByokError('CIPHERTEXT_INVALID');
    const key = await this.load({ tenant: input.tenant, keyId });
    const plaintext = await this.withMaterial(key, 'ENCRYPT_DECRYPT', (h) => this.backend.decrypt(h, backendCiphertext, input.aad));
    return { keyId, plaintext };
  }

  async getPublicKey(ref: KeyRef): Promise<PublicKeyResult> {
    const key = await this.load(ref);
    const spki = await this.withMaterial(key, 'SIGN_VERIFY', (h) => this.backend.publicKey(h));
    const { keyId, materialSpec } = key.record;
    return { keyId, keySpec: materialSpec, publicKey: toBase64(spki), signingAlgorithms: signingAlgorithmsFor(materialSpec) };
  }

  async sign(input: SignInput): Promise<SignResult> {
    const message = requireMessage(input.message);
    const key = await this.load(input);
    const signingAlgorithm = parseSigningAlgorithm(input.signingAlgorithm, key.record.materialSpec);
    const signature = await this.withMaterial(key, 'SIGN_VERIFY', (h) => this.backend.sign(h, signingAlgorithm, message));
    return { keyId: key.record.keyId, signingAlgorithm, signature };
  }

  /** Verification needs only the public key: the same code for both backends. */
  async verify(input: VerifyInput): Promise<VerifyResult> {
    const message = requireMessage(input.message);
    if (!(input.signature instanceof Uint8Array) || input.signature.length === 0 || input.signature.length > 1024) {
      throw new ByokError('INVALID_PARAMETER', 'signature must be 1 to 1024 bytes.');
    }
    const key = await this.load(input);
    const signingAlgorithm = parseSigningAlgorithm(input.signingAlgorithm, key.record.materialSpec);
    const spki = await this.withMaterial(key, 'SIGN_VERIFY', (h) => this.backend.publicKey(h));
    return { keyId: key.record.keyId, signatureValid: verifyWithSpki(spki, signingAlgorithm, message, input.signature) };
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
