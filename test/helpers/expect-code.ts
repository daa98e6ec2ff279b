/** Assert that a promise rejects with a ByokError of `code` (and a message matching `message`). */
import { expect } from 'vitest';
import { ByokError } from '../../src/errors.js';

export async function expectCode(p: Promise<unknown>, code: ByokError['code'], message?: RegExp): Promise<ByokError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e, `expected ${code}`).toBeInstanceOf(ByokError);
  expect((e as ByokError).code, (e as Error).message).toBe(code);
  if (message) expect((e as ByokError).message).toMatch(message);
  return e as ByokError;
}
