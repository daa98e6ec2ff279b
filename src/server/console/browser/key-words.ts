/**
 * How the console names things: key states and origins in the Huawei console's words, the key
 * specs a key can be created with (from the engine's one spec table), and dates.
 */
import { MATERIAL_SPECS, parseMaterialSpec, type MaterialSpec, type MaterialSpecInfo } from '../../../algorithms/specs.js';

/** Huawei's key_state codes in the console's words (1 is the console's own, for completeness). */
export const STATE_WORDS: Readonly<Record<string, string>> = {
  1: 'Pending activation', 2: 'Enabled', 3: 'Disabled', 4: 'Pending deletion', 5: 'Pending import',
};

export const ORIGIN_WORDS: Readonly<Record<string, string>> = { kms: 'KMS', external: 'External' };

/** Every key spec the engine takes, in the engine's names (create-key accepts them). */
export const CREATABLE_SPECS: readonly MaterialSpecInfo[] = Object.values(MATERIAL_SPECS);

/** A key spec as describe-key names it (Huawei's SM4, EC_P256, …) to the engine's table row. */
export function specInfo(keySpec: string): MaterialSpecInfo | undefined {
  try {
    return MATERIAL_SPECS[parseMaterialSpec(keySpec) as MaterialSpec];
  } catch {
    return undefined;
  }
}

/** Milliseconds since the epoch as `YYYY-MM-DD HH:MM UTC` (the same in every browser's zone). */
export function utcText(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
