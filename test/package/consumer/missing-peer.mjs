// An engine-only install asked for the SQLite store: a ByokError naming the package to install,
// and nothing written (the engine keys are written only once a store has opened).
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByokError, openEngine } from 'byok-hsm';

const dataDir = join(mkdtempSync(join(tmpdir(), 'byok-missing-')), 'data');
let refused;
try {
  await (await openEngine({ dataDir })).close();
  refused = { code: 'opened' };
} catch (e) {
  refused = e instanceof ByokError ? { code: e.code, message: e.message } : { code: `not a ByokError: ${e}` };
}
let written;
try {
  written = readdirSync(dataDir);
} catch {
  written = [];
}
console.log(JSON.stringify({ ...refused, written }));
