/** The README's library example runs as written (so it cannot rot). */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('examples/import-flow.mjs', () => {
  it('imports material and decrypts locally what the engine encrypted', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['examples/import-flow.mjs'], { encoding: 'utf8' }));
    expect(out).toMatchObject({ state: 'Enabled', decryptedLocally: 'hello' });
    expect(out.keyCheckValue).toMatch(/^[0-9a-f]{16}$/);
  });
});
