import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sm4GcmDecrypt, sm4GcmEncrypt } from '../src/algorithms/sm4-gcm.js';
import { ByokError } from '../src/errors.js';
import { fromHex, toHex } from '../src/bytes.js';

interface AeadCase { tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: string }
const file = JSON.parse(readFileSync(new URL('../vectors/wycheproof/sm4_gcm_test.json', import.meta.url), 'utf8')) as {
  testGroups: Array<{ tagSize: number; tests: AeadCase[] }>;
};

describe('SM4-GCM against Wycheproof sm4_gcm_test.json', () => {
  const cases = file.testGroups.flatMap((g) => g.tests.map((t) => ({ ...t, tagSize: g.tagSize })));

  it('runs every vector with the expected outcome', () => {
    let passed = 0;
    const failed: number[] = [];
    for (const t of cases) {
      let ok = false; // every case starts as failed
      const [key, iv, aad, msg, ct, tag] = [t.key, t.iv, t.aad, t.msg, t.ct, t.tag].map(fromHex);
      if (t.result === 'valid') {
        const enc = sm4GcmEncrypt(key, iv, msg, aad);
        const dec = sm4GcmDecrypt(key, iv, ct, tag, aad);
        ok = toHex(enc.ciphertext) === t.ct && toHex(enc.tag) === t.tag && toHex(dec) === t.msg;
      } else if (t.result === 'invalid') {
        try {
          sm4GcmDecrypt(key, iv, ct, tag, aad);
        } catch (e) {
          ok = e instanceof ByokError && e.code === 'CIPHERTEXT_INVALID';
        }
      } else {
        throw new Error('unknown test result');
      }
      if (ok) passed++;
      else failed.push(t.tcId);
    }
    console.log(`sm4_gcm_test.json: ${passed} passed, ${failed.length} failed`);
    expect(failed).toEqual([]);
    expect(passed).toBe(cases.length);
  });
});
