/**
 * The one canonical form of an encryption context as associated data, shared by Tencent's JSON
 * string and AWS's map: the UTF-8 JSON of the pairs sorted by key, no whitespace.
 */
import { describe, expect, it } from 'vitest';
import { encryptionContextAad, jsonEncryptionContextAad, parseEncryptionContextJson } from '../src/server/dialects/encryption-context.js';
import { ByokError } from '../src/errors.js';

const text = (u: Uint8Array | undefined) => (u === undefined ? undefined : Buffer.from(u).toString('utf8'));

describe('encryption context → associated data', () => {
  it('sorts the pairs by key and writes them without whitespace, whatever order or spacing they came in', () => {
    expect(text(encryptionContextAad({ b: '2', a: '1' }))).toBe('{"a":"1","b":"2"}');
    expect(text(jsonEncryptionContextAad('{ "b" : "2",\n "a":"1" }'))).toBe('{"a":"1","b":"2"}');
    // The map (AWS) and the JSON string (Tencent) of the same pairs give the same bytes.
    expect(encryptionContextAad({ 'x/y': 'é', A: '"q"' })).toEqual(jsonEncryptionContextAad('{"x/y":"é","A":"\\"q\\""}'));
    expect(text(encryptionContextAad({ Z: 'z', a: 'a', '1': 'one' }))).toBe('{"1":"one","Z":"z","a":"a"}');
    // By code units, integer-like keys too ("10" before "9"), not in a JS object's numeric order.
    expect(text(encryptionContextAad({ 9: 'nine', 10: 'ten' }))).toBe('{"10":"ten","9":"nine"}');
  });

  it('no context, an empty one and an empty string are no associated data (as a blob made without one)', () => {
    expect(encryptionContextAad(undefined)).toBeUndefined();
    expect(encryptionContextAad({})).toBeUndefined();
    expect(jsonEncryptionContextAad(undefined)).toBeUndefined();
    expect(jsonEncryptionContextAad('')).toBeUndefined();
    expect(jsonEncryptionContextAad('{}')).toBeUndefined();
  });

  it('refuses what is not an object of string values, with INVALID_PARAMETER', () => {
    for (const bad of ['nope', '[]', '["a"]', 'null', '"s"', '{"a":1}', '{"a":{"b":"c"}}', '{"a":null}']) {
      expect(() => parseEncryptionContextJson(bad), bad).toThrow(ByokError);
      expect(() => jsonEncryptionContextAad(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
    }
    expect(() => encryptionContextAad({ '': 'v' })).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
    expect(() => encryptionContextAad({ k: 1 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
  });
});
