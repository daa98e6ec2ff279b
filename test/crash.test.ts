/**
 * Crash safety of the durable store: SIGKILL a process in the middle of a stream of imports,
 * re-open the store, and find every import that returned success, complete and usable.
 */
import { spawn } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine } from '../src/open-engine.js';

const dir = mkdtempSync(join(tmpdir(), 'byok-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SIGKILL in the middle of a stream of imports', () => {
  it('keeps every import that returned success, nothing half-written', async () => {
    const child = spawn(process.execPath, ['test/crash/import-stream.mjs'], { env: { ...process.env, DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const confirmed: Array<{ keyId: string; kcv: string; material: string }> = [];
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child made too little progress: ${stderr}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          const [, keyId, kcv, material] = line.split(' ');
          confirmed.push({ keyId, kcv, material });
        }
        // Kill mid-stream, at a moment the child is busy with the next import.
        if (confirmed.length >= 12) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child exited early (${code}): ${stderr}`));
      });
    });
    await new Promise((r) => child.once('close', r));

    const engine = await openEngine({ dataDir: dir });
    try {
      const keys = await engine.listKeys('crash');
      for (const c of confirmed) {
        const meta = await engine.describeKey({ tenant: 'crash', keyId: c.keyId });
        expect(meta).toMatchObject({ state: 'Enabled', keyCheckValue: c.kcv });
        const { ciphertextBlob } = await engine.encrypt({ tenant: 'crash', keyId: c.keyId, plaintext: new Uint8Array([7]) });
        const body = ciphertextBlob.subarray(37);
        const d = createDecipheriv('aes-256-gcm', Buffer.from(c.material, 'hex'), body.subarray(0, 12));
        d.setAuthTag(body.subarray(body.length - 16));
        expect([...Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()])]).toEqual([7]);
      }
      // Whatever was in flight is either absent, a fresh PendingImport key, or fully imported.
      for (const k of keys) {
        expect(['PendingImport', 'Enabled']).toContain(k.state);
        if (k.state === 'Enabled') expect(k.keyCheckValue).toMatch(/^[0-9a-f]{16}$/);
        else expect(k.keyCheckValue).toBeUndefined();
      }
      expect(keys.length).toBeGreaterThanOrEqual(confirmed.length);
    } finally {
      await engine.close();
    }
  });
});
