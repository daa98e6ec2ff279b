/**
 * The engine's keys, and their binding to a store. A store records, at its first use, a verifier
 * of each engine key it is used with, and an engine whose keys do not match refuses to open it:
 * otherwise a lost keys.json, or an instance started without the shared keys, would run on new
 * keys and every imported key would be lost for good (its material unopenable, its re-import a
 * mismatch forever).
 *
 * A verifier is HMAC-SHA256 under the key of a fixed label naming the key's role and ID: a PRF
 * output, so it reveals nothing of the key, and its label is no input any other use of the key
 * takes (commitments are MACs of "byok/commitment/v1" ‖ …).
 *
 * Rules, against what the store recorded:
 * - the commitment key is the one recorded (it never rotates: commitments must stay comparable);
 * - a master or token-sealing key whose ID the store knows is the key it knew by that ID;
 * - every master key the store knows is still given: what it sealed could never be opened again;
 * - a new ID is learned (rotation: a new key first, the old ones kept); a token-sealing key may be
 *   dropped (its tokens expire).
 */
import { createHmac } from 'node:crypto';
import { equalBytes } from '../bytes.js';
import { ByokError } from '../errors.js';
import type { EngineKeyBinding, EngineKeyCheck, EngineKeyRole, EngineKeyVerifier, KeyStore } from '../store/key-store.js';

/** A 32-byte key and the ID that names it inside what it sealed. */
export interface NamedKey {
  readonly id: string;
  readonly key: Uint8Array;
}

/** The engine's secrets (read from files or the environment by src/config/key-files.ts). */
export interface EngineKeys {
  /** Seal material at rest (pure backend). Current first. */
  readonly master: readonly NamedKey[];
  /** Seal import tokens. Current first. */
  readonly tokenSealing: readonly NamedKey[];
  /** Keys material commitments. */
  readonly commitment: Uint8Array;
}

const VERIFIER_LABEL = 'byok/engine-key-verifier/v1';

function verifierOf(role: EngineKeyRole, keyId: string, key: Uint8Array): EngineKeyVerifier {
  const mac = createHmac('sha256', key).update(`${VERIFIER_LABEL}\0${role}\0${keyId}`).digest();
  return { role, keyId, verifier: new Uint8Array(mac) };
}

/** One verifier per key: the commitment key (ID ''), each master and each token-sealing key. */
export function engineKeyVerifiers(keys: EngineKeys): EngineKeyVerifier[] {
  return [
    verifierOf('commitment', '', keys.commitment),
    ...keys.master.map((k) => verifierOf('master', k.id, k.key)),
    ...keys.tokenSealing.map((k) => verifierOf('token-sealing', k.id, k.key)),
  ];
}

/** A store with no verifiers and no keys: the only kind for which new keys may be generated. */
export function isNewStore(binding: EngineKeyBinding): boolean {
  return binding.verifiers.length === 0 && !binding.holdsKeys;
}

const NAMES: Record<EngineKeyRole, string> = { commitment: 'the commitment key', master: 'master key', 'token-sealing': 'token-sealing key' };
const nameOf = (v: EngineKeyVerifier) => (v.role === 'commitment' ? NAMES.commitment : `${NAMES[v.role]} ${v.keyId}`);

/**
 * The check `store.bindEngineKeys` runs: the verifiers of `keys` the store does not know yet, or
 * INVALID_PARAMETER naming every key that differs from, or is missing against, the store's.
 */
export function checkEngineKeys(keys: EngineKeys): EngineKeyCheck {
  const given = engineKeyVerifiers(keys);
  return ({ verifiers: recorded }) => {
    const problems: string[] = [];
    const known = (v: EngineKeyVerifier) => recorded.find((r) => r.role === v.role && r.keyId === v.keyId);
    for (const v of given) {
      const r = known(v);
      if (r && !equalBytes(r.verifier, v.verifier)) problems.push(`${nameOf(v)} differs`);
    }
    for (const r of recorded) {
      if (r.role === 'master' && !given.some((v) => v.role === 'master' && v.keyId === r.keyId)) {
        problems.push(`${nameOf(r)}, which the store knows, is missing (material sealed under it could not be opened)`);
      }
    }
    if (problems.length > 0) {
      throw new ByokError('INVALID_PARAMETER', `The engine keys do not belong to this key store (it records the keys it was first used with): ${problems.join('; ')}. ` +
        'Give the keys the store was used with (restore keys.json or the BYOK_* keys from a backup); a rotation keeps the old keys after the new one.');
    }
    return given.filter((v) => !known(v));
  };
}

/** Bind `store` to `keys` (recorded at first use), or refuse keys that are not the store's. */
export async function bindEngineKeys(store: KeyStore, keys: EngineKeys): Promise<void> {
  await store.bindEngineKeys(checkEngineKeys(keys));
}
