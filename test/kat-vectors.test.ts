/**
 * Every vector file under vectors/ through the KAT runner on the pure backend: no failure, and
 * no skip (the pure backend implements every operation the files need).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { pureKatOperations } from '../src/backends/pure/kat-operations.js';
import { expandVectorPaths, formatReport, runVectorFile } from '../src/kat/runner.js';

const kat = pureKatOperations();
afterAll(() => kat.close());

const files = expandVectorPaths(['vectors']);

describe('known-answer vectors, pure backend', () => {
  it('finds every vector file the issue names', () => {
    const names = files.map((f) => f.split('/').pop());
    for (const expected of [
      'rsa_oaep_2048_sha1_mgf1sha1_test.json', 'rsa_oaep_2048_sha256_mgf1sha256_test.json', 'rsa_oaep_3072_sha256_mgf1sha256_test.json',
      'rsa_oaep_4096_sha256_mgf1sha256_test.json', 'rsa_oaep_2048_sha256_mgf1sha1_test.json', 'rsa_oaep_misc_test.json',
      'rsa_pkcs1_2048_test.json', 'rsa_pkcs1_3072_test.json', 'rsa_pkcs1_4096_test.json', 'aes_kwp_test.json',
      'rfc5649_vectors.json', 'nist_kwp_ad_256_excerpt.json', 'vectors.json',
    ]) expect(names).toContain(expected);
  });

  it.each(files)('%s', async (file) => {
    const report = await runVectorFile(file, kat);
    console.log(formatReport(report));
    expect(report.failed).toBe(0);
    expect(report.skipped).toBe(0);
    expect(report.passed).toBe(report.cases.length);
    expect(report.passed).toBeGreaterThan(0);
  });
});
