/** Every schema runner `byok kat` and the tests know. */
import { simpleKwpRunner, wycheproofKwpRunner } from './keywrap.js';
import { sm2VectorsRunner } from './sm2-vectors.js';
import type { KatSchemaRunner } from './types.js';
import { rsaesOaepRunner, rsaesPkcs1Runner } from './wycheproof-rsaes.js';

export const KAT_SCHEMA_RUNNERS: readonly KatSchemaRunner[] = [
  rsaesOaepRunner,
  rsaesPkcs1Runner,
  wycheproofKwpRunner,
  simpleKwpRunner,
  sm2VectorsRunner,
];
