// Public entry point: re-exports by name only.
export { ByokError, ERROR_CODES, isByokError } from './errors.js';
export type { ErrorCode, Fault } from './errors.js';
export {
  WRAPPING_ALGORITHMS,
  WRAPPING_KEY_SPECS,
  MATERIAL_SPECS,
  parseWrappingAlgorithm,
  parseWrappingKeySpec,
  parseMaterialSpec,
} from './algorithms/specs.js';
export type { WrappingAlgorithm, WrappingKeySpec, MaterialSpec } from './algorithms/specs.js';
export type { CryptoBackend, MaterialHandle, WrappingKeyPair, UnwrapRequest } from './backends/crypto-backend.js';
export type * from './engine/types.js';
export { systemClock, ManualClock } from './clock.js';
export type { Clock } from './clock.js';
