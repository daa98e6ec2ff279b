/** CI smoke for the benchmarks: `byok bench --quick` runs, writes its JSON and SVG, prints no terminal control codes. Speed is never asserted. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'byok-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('byok bench --quick', () => {
  it('runs every section and writes JSON with anchors and rows, and the SVG', () => {
    const r = spawnSync(process.execPath, ['bin/byok.js', 'bench', '--quick', '--out', out], { encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const file = readdirSync(out).find((f) => /^bench-.*\.json$/.test(f));
    expect(file).toBeDefined();
    const json = JSON.parse(readFileSync(join(out, file!), 'utf8'));
    expect(json.anchors.rsa2048.opsPerSecond).toBeGreaterThan(0);
    const names = (json.rows as Array<{ name: string }>).map((row) => row.name).join('\n');
    // Output to a pipe: plain text, no ANSI escape sequences (benny's progress display is replaced).
    expect(r.stdout).not.toMatch(/\x1b/);
    for (const section of ['unwrap RSAES_OAEP_SHA_256 RSA_2048, 1 thread', 'workers', 'token verify', 'warm pool', 'empty pool', 'importKeyMaterial, whole',
      'over HTTP: import-key-material', 'over HTTP: get-parameters-for-import', 'over HTTP: full cycles', 'heap used', 'SM2 unwrap, 1 thread', 'SM2 key generation']) {
      expect(names).toContain(section);
    }
    expect(readdirSync(out).some((f) => f.endsWith('.chart.html'))).toBe(true);
    const svg = readdirSync(out).find((f) => f.endsWith('.svg'));
    expect(svg).toBeDefined();
    expect(readFileSync(join(out, svg!), 'utf8')).toMatch(/^<svg [^]*<polyline [^]*<\/svg>\n$/);
    expect(json.sweeps.serviceInFlight[0].points.length).toBeGreaterThan(1);
  }, 240_000); // the spawn's own limit: the default 60 s is less than a quick bench takes under load
});
