#!/usr/bin/env node
// Builds every addon of our own: each folder of native-bindings/ with a binding.gyp, by node-gyp
// against the running Node's headers (Debian's nodejs ships them, so nothing is downloaded).
// An addon is optional at run time (its TypeScript loader falls back or reports it missing), so a
// failed build is reported and exits non-zero only with --strict (CI builds strictly).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
// node-gyp: a local install if there is one, else the one npm runs install scripts with (npm
// names it in npm_config_node_gyp for its scripts, and bundles it next to itself).
const nodeGyp = [
  join(root, 'node_modules', '.bin', 'node-gyp'),
  // `byok build-native` in a project that installed byok-hsm: that project's node-gyp.
  process.env.BYOK_NODE_GYP_PROJECT && join(process.env.BYOK_NODE_GYP_PROJECT, 'node_modules', '.bin', 'node-gyp'),
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].find((p) => p && existsSync(p));
const addons = readdirSync(join(root, 'native-bindings'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'native-bindings', d.name, 'binding.gyp')))
  .map((d) => d.name);

let failed = 0;
for (const name of addons) {
  const cwd = join(root, 'native-bindings', name);
  const headers = existsSync('/usr/include/node/node_api.h') ? ['--nodedir=/usr'] : [];
  const run = nodeGyp
    ? spawnSync(process.execPath, [nodeGyp, 'rebuild', ...headers], { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
    : { status: null, stderr: 'node-gyp not found (npm install node-gyp)' };
  if (run.status === 0) {
    console.log(`native-bindings/${name}: built`);
  } else {
    failed++;
    console.error(`native-bindings/${name}: build failed (status ${run.status})\n${run.stderr.slice(-4000)}`);
  }
}
if (addons.length === 0) console.log('native-bindings: no addon to build');
process.exitCode = failed > 0 && strict ? 1 : 0;
