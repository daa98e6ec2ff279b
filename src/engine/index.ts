/**
 * The engine layer by name: the facade, its options and the parts an embedder may hand it. The
 * composition root that opens one with defaults, `openEngine`, sits above it in src/open-engine.ts.
 */
export { ImportEngine, MAX_MATERIAL_EXPIRY } from './import-engine.js';
export type { AuditRecord, Closable, ImportEngineOptions } from './import-engine.js';
export { WrappingKeyPool } from './wrapping-key-pool.js';
export type * from './types.js';
/** openEngine binds its store; an embedder building an ImportEngine itself calls `bindEngineKeys` first. */
export { bindEngineKeys, checkEngineKeys, engineKeyVerifiers, isNewStore } from './key-binding.js';
export type { EngineKeys, NamedKey } from './key-binding.js';
