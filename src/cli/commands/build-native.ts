/**
 * `byok build-native`: build the package's native addons where it is installed — the
 * pkcs11-attrs addon (CKA_UNWRAP_TEMPLATE, which the PKCS#11 backend's default policy needs) and
 * the SM2 addon (SM2 decrypt on node's OpenSSL). npm installs byok-hsm without compiling anything
 * (an engine-only install needs no toolchain), so a consumer that uses a PKCS#11 device runs this
 * once after `npm install`; in the repository, `npm run build:native` runs the same script.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { defineCommand, EXIT, packageRoot, UsageError } from '../command-line.js';

const usage = `Usage: byok build-native [--strict]

Builds every addon under native-bindings/ of the installed byok-hsm package with node-gyp (npm's
own, or node_modules/.bin/node-gyp) against this Node's headers: needs make and a C/C++ compiler
(Debian: build-essential). Each addon is optional at run time — without it the PKCS#11 backend's
default unwrap-template policy refuses to start (saying so) and SM2 runs in TypeScript.

  --strict   exit 1 when an addon fails to build (default: report it and exit 0)

Exit codes: 0 built (or, without --strict, reported), 1 a build failed under --strict, 2 usage error.`;

export const command = defineCommand({ name: 'build-native', summary: 'build the native addons of the installed package', usage }, async (argv) => {
  const unknown = argv.filter((a) => a !== '--strict');
  if (unknown.length > 0) throw new UsageError(`unknown argument '${unknown[0]}'`);
  const script = join(packageRoot(), 'scripts', 'build-native.mjs');
  // The consumer's own node-gyp, when its project has one, comes first (the script looks there too).
  const run = spawnSync(process.execPath, [script, ...argv], { stdio: 'inherit', env: { ...process.env, BYOK_NODE_GYP_PROJECT: process.cwd() } });
  return run.status === 0 ? EXIT.OK : EXIT.FAILURE;
});
