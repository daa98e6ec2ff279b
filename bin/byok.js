#!/usr/bin/env node
// The `byok` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`byok: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
