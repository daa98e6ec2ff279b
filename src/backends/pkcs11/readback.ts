/**
 * Every object the backend makes is read back against the template it asked for: a device may
 * ignore attributes silently (NSS's softoken ignores CKA_DECRYPT=false and CKA_UNWRAP=false in
 * an unwrap template). A use switched on against the template is switched off where the device
 * lets us (C_SetAttributeValue); what still differs is destroyed and refused with DEVICE_REFUSED
 * naming the attributes — a device fault, never the customer's.
 */
import type * as Pkcs11Js from 'pkcs11js';
import { ByokError } from '../../errors.js';
import type { Handle, Pkcs11Lib } from './pkcs11js.js';

/** The attributes read back: the key's kind, secrecy, uses and policy (PKCS#11 2.40 §4.4–§4.9). */
const CHECKED = [
  'CKA_CLASS', 'CKA_KEY_TYPE', 'CKA_TOKEN', 'CKA_PRIVATE', 'CKA_SENSITIVE', 'CKA_EXTRACTABLE', 'CKA_ENCRYPT', 'CKA_DECRYPT',
  'CKA_SIGN', 'CKA_VERIFY', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_DERIVE', 'CKA_SIGN_RECOVER', 'CKA_MODIFIABLE', 'CKA_COPYABLE',
  'CKA_ALLOWED_MECHANISMS', 'CKA_VALUE_LEN', 'CKA_MODULUS_BITS',
] as const;

/**
 * What a device may have left open against the template that we may close again: uses switched
 * on (NSS ignores CKA_DECRYPT=false in an unwrap template), and secrecy left off (opencryptoki
 * ignores CKA_SENSITIVE / CKA_EXTRACTABLE there) — the one-way changes C_SetAttributeValue allows
 * (PKCS#11 2.40 §4.9: sensitive only to true, extractable only to false).
 */
const CLOSABLE: Record<string, boolean> = {
  CKA_ENCRYPT: false, CKA_DECRYPT: false, CKA_SIGN: false, CKA_VERIFY: false, CKA_WRAP: false, CKA_UNWRAP: false,
  CKA_DERIVE: false, CKA_SIGN_RECOVER: false, CKA_SENSITIVE: true, CKA_EXTRACTABLE: false,
};

type Expected = boolean | number | Buffer;

/** A CK_ULONG or CK_BBOOL read back: the buffer's own length says which (4 or 8 bytes, or 1). */
function decode(value: Buffer, like: Expected): Expected {
  if (typeof like === 'boolean') return value.length > 0 && value[0] !== 0;
  if (typeof like === 'number') return value.length === 8 ? Number(value.readBigUInt64LE(0)) : value.length === 4 ? value.readUInt32LE(0) : NaN;
  return value;
}

/** Byte strings compare exactly; CKA_ALLOWED_MECHANISMS as a set of CK_ULONGs (devices sort it). */
function same(a: Expected, b: Expected, asSet: boolean): boolean {
  if (!Buffer.isBuffer(a) || !Buffer.isBuffer(b)) return a === b;
  if (!asSet) return a.equals(b);
  const items = (x: Buffer) => Array.from({ length: x.length / 8 }, (_, i) => x.subarray(8 * i, 8 * i + 8).toString('hex')).sort().join();
  return a.length === b.length && items(a) === items(b);
}

/** Attribute names by type, for the message. */
function nameOf(l: Pkcs11Lib, type: number): string {
  return CHECKED.find((n) => l[n] === type) ?? `0x${type.toString(16)}`;
}

/** The template's checked attributes whose value the object does not have (after fixing uses). */
function mismatches(p11: Pkcs11Js.PKCS11, l: Pkcs11Lib, session: Handle, object: Handle, template: Pkcs11Js.Template): string[] {
  const checked = new Set<number>(CHECKED.map((n) => l[n]));
  // CKA_VALUE_LEN 0 is SoftHSM2's way of not reporting it (the capabilities say so): not checked here.
  const wanted = template.filter((a) => checked.has(a.type) && a.value !== undefined && !(a.type === l.CKA_VALUE_LEN));
  const wrong: string[] = [];
  // One call for all; one a piece only if the device refuses one of them.
  let values: Array<Buffer | undefined>;
  try {
    values = (p11.C_GetAttributeValue(session, object, wanted.map((a) => ({ type: a.type }))) as Array<{ value?: Buffer }>).map((a) => a.value);
  } catch {
    values = wanted.map((a) => {
      try {
        return (p11.C_GetAttributeValue(session, object, [{ type: a.type }]) as Array<{ value?: Buffer }>)[0].value;
      } catch {
        return undefined; // the device does not know the attribute (e.g. CKA_COPYABLE before v2.40)
      }
    });
  }
  for (const [i, a] of wanted.entries()) {
    const got = values[i];
    const expected = a.value as Expected;
    if (got === undefined) {
      // An unknown attribute asked false (or a policy the device lacks) changes nothing; a use asked true must be there.
      if (expected === true) wrong.push(`${nameOf(l, a.type)} is missing`);
      continue;
    }
    const value = decode(got, expected);
    if (same(value, expected, a.type === l.CKA_ALLOWED_MECHANISMS)) continue;
    if (CLOSABLE[nameOf(l, a.type)] === expected) {
      try {
        p11.C_SetAttributeValue(session, object, [{ type: a.type, value: expected }]);
        const [{ value: again }] = p11.C_GetAttributeValue(session, object, [{ type: a.type }]) as Array<{ value?: Buffer }>;
        if (again && decode(again, expected) === expected) continue;
      } catch { /* the device will not close it: refused below */ }
    }
    wrong.push(`${nameOf(l, a.type)} is ${Buffer.isBuffer(value) ? value.toString('hex') : String(value)}, asked ${Buffer.isBuffer(expected) ? expected.toString('hex') : String(expected)}`);
  }
  return wrong;
}

/**
 * Read `object` back against `template`; if the device did not honour it, destroy the object
 * and throw DEVICE_REFUSED (`what` names the object).
 */
export function checkHonoured(p11: Pkcs11Js.PKCS11, l: Pkcs11Lib, session: Handle, object: Handle, template: Pkcs11Js.Template, what: string): void {
  const wrong = mismatches(p11, l, session, object, template);
  if (!wrong.length) return;
  try {
    p11.C_DestroyObject(session, object);
  } catch { /* gone already */ }
  throw new ByokError('DEVICE_REFUSED', `The PKCS#11 device did not honour the template of ${what}: ${wrong.join('; ')}. The object was destroyed.`);
}
