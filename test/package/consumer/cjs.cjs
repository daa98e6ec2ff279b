// A CommonJS consumer: byok-hsm is ESM only, so CommonJS loads it with import(), which every
// Node >= 20 has. Where require(esm) is on (Node >= 20.19), require() gives the same module.
'use strict';
const libraryFlow = require('./library-flow.cjs');

Promise.all([import('byok-hsm'), import('byok-hsm/client')]).then(async ([lib, client]) => {
  const result = await libraryFlow(lib, client);
  const requireModule = Boolean(process.features.require_module);
  const requiredIsSame = requireModule ? require('byok-hsm').ByokError === lib.ByokError : null;
  console.log(JSON.stringify({ ...result, requireModule, requiredIsSame }));
}).catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
