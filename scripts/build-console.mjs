#!/usr/bin/env node
// Builds the web console (/console): type-checks its browser module (its own tsconfig: DOM, no
// node), bundles it with esbuild into one ES module, and copies the page and stylesheet beside it,
// into dist/src/server/console/assets/, where the compiled plugin serves them from.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'server', 'console');
const out = join(root, 'dist', 'src', 'server', 'console', 'assets');

const check = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(source, 'browser', 'tsconfig.json')], { stdio: 'inherit' });
if (check.status !== 0) process.exit(check.status ?? 1);

mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(source, 'browser', 'main.ts')], outfile: join(out, 'console.js'),
  bundle: true, format: 'esm', platform: 'browser', target: 'es2022', legalComments: 'none', logLevel: 'warning',
});
for (const file of ['index.html', 'console.css']) copyFileSync(join(source, 'assets', file), join(out, file));
console.log('console: built into dist/src/server/console/assets/');
