/**
 * The PKCS#11 backend's entry point. pkcs11js is loaded only when a backend (or its KAT
 * operations) is created, so the pure core never needs it.
 */
import { Pkcs11Backend } from './pkcs11-backend.js';
import type { Pkcs11BackendOptions } from './options.js';

export { formatCapabilityReport } from './capability-report.js';
export { describeCkr } from './ckr.js';
export { findPkcs11Module } from './device.js';
export { pkcs11KatOperations } from './kat-operations.js';
export type { Pkcs11BackendOptions } from './options.js';
export type { UnwrapPath } from './capabilities.js';
export type { UnwrapTemplatePolicy, UnwrapTemplateState, UnwrapTemplateStatus } from './unwrap-template-check.js';
export { Pkcs11Backend };

/** Open the device the options name and return the backend on it. */
export function createPkcs11Backend(options: Pkcs11BackendOptions): Promise<Pkcs11Backend> {
  return Pkcs11Backend.open(options);
}
