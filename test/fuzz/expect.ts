/**
 * What every fuzz target asserts: the code under test returns, or throws a ByokError with one of
 * the codes its contract allows (and that code's fixed message). Anything else escaping (a
 * TypeError, a RangeError, a library's own error, another code) is a crash.
 */
import { ByokError, ERROR_CODES, type ErrorCode } from '../../src/errors.js';

export class FuzzFinding extends Error {
  override readonly name = 'FuzzFinding';
}

/** Run `fn`; a ByokError with an allowed code is the expected rejection (returns undefined). */
export function onlyByokError<T>(allowed: readonly ErrorCode[], fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    checkRejection(allowed, e);
    return undefined;
  }
}

export async function onlyByokErrorAsync<T>(allowed: readonly ErrorCode[], fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    checkRejection(allowed, e);
    return undefined;
  }
}

function checkRejection(allowed: readonly ErrorCode[], e: unknown): void {
  if (!(e instanceof ByokError)) throw e;
  if (!allowed.includes(e.code)) throw new FuzzFinding(`unexpected code ${e.code} (allowed: ${allowed.join(', ')}): ${e.message}`);
  if ((e.code === 'DECRYPT_MATERIAL_FAILED' || e.code === 'IMPORT_TOKEN_INVALID') && e.message !== ERROR_CODES[e.code].message) {
    throw new FuzzFinding(`${e.code} with a non-uniform message: ${e.message}`);
  }
}

export function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new FuzzFinding(what);
}

/** Deterministic fixture bytes (the seeds are made with the same ones). */
export function fixedBytes(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}
