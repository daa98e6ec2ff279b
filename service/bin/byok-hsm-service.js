#!/usr/bin/env node
// `byok-hsm-service ARGS` is byok-hsm's `byok ARGS`, installed together with the packages the
// service, the SQLite / PostgreSQL stores, the PKCS#11 backend and `byok bench` load on demand.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = dirname(createRequire(import.meta.url).resolve('byok-hsm/package.json'));
await import(pathToFileURL(join(root, 'bin', 'byok.js')).href);
