/**
 * pkcs11js, the binding to a PKCS#11 module (an optional package): loaded only when a PKCS#11
 * backend or its KAT operations are asked for, so the pure core installs and runs without it.
 */
import type * as Pkcs11Js from 'pkcs11js';
import { loadOptional } from '../../optional-dependency.js';

export type Pkcs11Lib = typeof Pkcs11Js;
/** Slot, session and object handles are Buffers in pkcs11js. */
export type Handle = Buffer;

export async function loadPkcs11Js(): Promise<Pkcs11Lib> {
  const loaded = await loadOptional('pkcs11js', () => import('pkcs11js'));
  // A CommonJS addon: its constants are set natively, so only the default export carries them.
  return ((loaded as { default?: Pkcs11Lib }).default ?? loaded) as Pkcs11Lib;
}
