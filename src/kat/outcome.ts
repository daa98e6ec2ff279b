/**
 * The one place that decides a case's outcome from a Wycheproof-style `result`, so every runner
 * treats valid / invalid / acceptable / unknown the same way. Each case starts as failed.
 */
import { ByokError } from '../errors.js';
import { toHex } from '../bytes.js';
import type { KatCaseResult } from './types.js';

/**
 * @param expectedHex the plaintext a valid case must produce
 * @param rejectionCode the ByokError code an invalid case must raise
 */
export async function judgeCase(
  id: string,
  result: string,
  expectedHex: string | null,
  attempt: () => Promise<Uint8Array>,
  rejectionCode: ByokError['code'] = 'DECRYPT_MATERIAL_FAILED',
): Promise<KatCaseResult> {
  let out: Uint8Array | undefined;
  let error: unknown;
  try {
    out = await attempt();
  } catch (e) {
    error = e;
  }
  if (error instanceof ByokError && error.code === 'ALGORITHM_UNSUPPORTED') {
    return { id, status: 'skipped', reason: error.message };
  }
  const rejected = error instanceof ByokError && error.code === rejectionCode;
  const matches = out !== undefined && expectedHex !== null && toHex(out) === expectedHex.toLowerCase();
  const unexpected = error !== undefined && !rejected ? `unexpected error: ${error instanceof ByokError ? error.code : 'non-ByokError'}` : undefined;
  if (result === 'valid') {
    return matches ? { id, status: 'passed' } : { id, status: 'failed', reason: unexpected ?? (out ? 'wrong plaintext' : 'rejected a valid case') };
  }
  if (result === 'invalid') {
    return rejected ? { id, status: 'passed' } : { id, status: 'failed', reason: unexpected ?? 'accepted an invalid case' };
  }
  if (result === 'acceptable') {
    // Either outcome is allowed, but an accepted case must give the right plaintext.
    return rejected || matches ? { id, status: 'passed' } : { id, status: 'failed', reason: unexpected ?? 'wrong plaintext' };
  }
  return { id, status: 'failed', reason: `unknown test result '${result}'` };
}
