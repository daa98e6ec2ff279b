/**
 * byok-hsm: the import engine a KMS server embeds. `openEngine` gives an {@link Engine} over the
 * pure backend (or a {@link CryptoBackend} of your own) and a {@link KeyStore} (the memory store
 * here; SQLite and PostgreSQL at `byok-hsm/stores/sqlite` and `byok-hsm/stores/postgres`, or your
 * own). The customer's side of the import is `byok-hsm/client`, a PKCS#11 device `byok-hsm/pkcs11`,
 * the HTTP service `byok-hsm/server`. Re-exports by name only.
 *
 * @packageDocumentation
 */
export { openEngine } from './open-engine.js';
export type { OpenEngineOptions } from './open-engine.js';
export type { ImportEngine, Readiness } from './engine/import-engine.js';
export { WrappingKeyPool } from './engine/wrapping-key-pool.js';
export type { WrappingKeyPoolOptions } from './engine/wrapping-key-pool.js';
export type {
  Engine,
  KeyRef,
  KeyMetadata,
  CreateKeyInput,
  GetParametersForImportInput,
  ImportParameters,
  ImportKeyMaterialInput,
  ImportResult,
  ScheduleDeletionInput,
  EncryptInput,
  EncryptResult,
  DecryptInput,
  DecryptResult,
  PublicKeyResult,
  SignInput,
  SignResult,
  VerifyInput,
  VerifyResult,
  MacInput,
  MacResult,
  VerifyMacInput,
  VerifyMacResult,
  MessageType,
  PageInput,
  ListKeysInput,
  KeyList,
  CreateAliasInput,
  AliasRef,
  ListAliasesInput,
  AliasEntry,
  AliasList,
  DataKeySpec,
  GenerateDataKeyInput,
  DataKeyResult,
  ReEncryptInput,
  ReEncryptResult,
} from './engine/types.js';
export type { AuditRecord, AuditDetails, AuditSink, AuditContext } from './engine/audit.js';

export type {
  KeyStore, KeyRecord, KeyMutation, KeyDescription, KeyState, KeyOrigin, AliasRecord,
  EngineKeyBinding, EngineKeyCheck, EngineKeyRole, EngineKeyVerifier, CommittedReservation,
} from './store/key-store.js';
export { MemoryKeyStore } from './store/memory-store.js';
export type { PostgresUrl } from './store/store-url.js';

export { generateEngineKeys, loadEngineKeys, readEngineKeysFile, writeEngineKeysFile, engineKeysFromEnv, rotateEngineKey } from './config/key-files.js';
export type { EngineKeys, NamedKey } from './config/key-files.js';

export { ByokError, ERROR_CODES, isByokError } from './errors.js';
export type { ErrorCode, Fault } from './errors.js';
export { WIRE_ERRORS, HTTP_STATUS } from './server/dialects/wire-errors.js';
export type { WireError, HttpStatus } from './server/dialects/wire-errors.js';
export type { DialectName } from './server/dialects/wire-errors.js';

export {
  WRAPPING_ALGORITHMS,
  WRAPPING_KEY_SPECS,
  MATERIAL_SPECS,
  parseWrappingAlgorithm,
  parseWrappingKeySpec,
  parseMaterialSpec,
} from './algorithms/specs.js';
export type {
  WrappingAlgorithm,
  WrappingKeySpec,
  MaterialSpec,
  SymmetricSpec,
  HmacSpec,
  PrivateKeySpec,
  KeyUsage,
  SigningAlgorithm,
  MacAlgorithm,
  KeyFamily,
  RsaPadding,
  EcCurve,
  PrivateKeyInfo,
  WrappingAlgorithmInfo,
  WrappingKeySpecInfo,
  MaterialSpecInfo,
} from './algorithms/specs.js';
export type { CryptoBackend, MaterialHandle, WrappingKeyPair, UnwrapRequest, BackendId, CapabilityQuery, CapabilityReport, CapabilityRow } from './backends/crypto-backend.js';
export { systemClock, ManualClock } from './clock.js';
export type { Clock } from './clock.js';
