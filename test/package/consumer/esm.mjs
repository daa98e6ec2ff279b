// An ESM consumer: static imports of the entry and a subpath.
import * as lib from 'byok-hsm';
import * as client from 'byok-hsm/client';
import libraryFlow from './library-flow.cjs';

console.log(JSON.stringify(await libraryFlow(lib, client)));
