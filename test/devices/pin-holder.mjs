// A PIN holder with a grudge (issue 15, defect 2), as a process of its own: it opens the token
// with its own pkcs11js handle and the user PIN, and tries to recover imported material from
// captured ciphertexts with every private key on the token. It prints JSON: the keys it saw and,
// for each attempt, what the device answered and any CKA_VALUE it could read (hex).
//
//   node pin-holder.mjs '{"module", "libraryParameters"?, "label", "pin", "ciphertexts": [{ "name", "padding": "oaep-sha1"|"oaep-sha256"|"pkcs1", "ciphertext": base64, "length": bytes, "envelope"?: true }]}'
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkcs11js = require('pkcs11js');
const input = JSON.parse(process.argv[2]);
const p11 = new pkcs11js.PKCS11();
p11.load(input.module);
// The same trailing-space workaround as device.ts (pkcs11js drops the last character).
p11.C_Initialize(input.libraryParameters ? { libraryParameters: `${input.libraryParameters} `, flags: pkcs11js.CKF_OS_LOCKING_OK } : { flags: pkcs11js.CKF_OS_LOCKING_OK });
const out = { privateKeys: 0, attempts: [] };
try {
  const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === input.label);
  const session = p11.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
  p11.C_Login(session, pkcs11js.CKU_USER, input.pin);
  p11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
  const keys = p11.C_FindObjects(session, 1000);
  p11.C_FindObjectsFinal(session);
  out.privateKeys = keys.length;
  const mechs = new Set(p11.C_GetMechanismList(slot));

  const rsaMechanism = (padding) => padding === 'pkcs1' ? { mechanism: pkcs11js.CKM_RSA_PKCS } : {
    mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
    parameter: {
      type: pkcs11js.CK_PARAMS_RSA_OAEP, source: 1,
      hashAlg: padding === 'oaep-sha1' ? pkcs11js.CKM_SHA_1 : pkcs11js.CKM_SHA256,
      mgf: padding === 'oaep-sha1' ? pkcs11js.CKG_MGF1_SHA1 : pkcs11js.CKG_MGF1_SHA256,
    },
  };
  const readable = (keyType) => [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }, { type: pkcs11js.CKA_KEY_TYPE, value: keyType },
    { type: pkcs11js.CKA_TOKEN, value: false }, { type: pkcs11js.CKA_SENSITIVE, value: false }, { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ];
  const compliant = (keyType, extra = []) => [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }, { type: pkcs11js.CKA_KEY_TYPE, value: keyType },
    { type: pkcs11js.CKA_TOKEN, value: false }, { type: pkcs11js.CKA_SENSITIVE, value: true }, { type: pkcs11js.CKA_EXTRACTABLE, value: false }, ...extra,
  ];
  const value = (object) => {
    const [v] = p11.C_GetAttributeValue(session, object, [{ type: pkcs11js.CKA_VALUE }]);
    return v.value ? Buffer.from(v.value).toString('hex') : undefined;
  };
  const attempt = (name, how, fn) => {
    try {
      out.attempts.push({ name, how, outcome: 'value', value: fn() });
    } catch (e) {
      out.attempts.push({ name, how, outcome: e.message ?? String(e) });
    }
  };

  for (const c of input.ciphertexts) {
    const ciphertext = Buffer.from(c.ciphertext, 'base64');
    for (const key of keys) {
      const [modulus] = p11.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_MODULUS }]);
      const k = modulus.value.length;
      const head = c.envelope ? ciphertext.subarray(0, k) : ciphertext;
      const mechanism = rsaMechanism(c.padding);
      if (!c.envelope) {
        for (const [kind, keyType] of [['generic secret', pkcs11js.CKK_GENERIC_SECRET], ['AES', pkcs11js.CKK_AES]]) {
          attempt(c.name, `C_UnwrapKey into an extractable ${kind} key`, () => value(p11.C_UnwrapKey(session, mechanism, key, head, readable(keyType))));
          // Some devices (opencryptoki) want the length of an unwrapped secret in the template.
          attempt(c.name, `C_UnwrapKey into an extractable ${kind} key of CKA_VALUE_LEN ${c.length}`, () => value(p11.C_UnwrapKey(session, mechanism, key, head, [...readable(keyType), { type: pkcs11js.CKA_VALUE_LEN, value: c.length }])));
        }
      }
      attempt(c.name, 'C_Decrypt with the wrapping key', () => {
        p11.C_DecryptInit(session, mechanism, key);
        return Buffer.from(p11.C_Decrypt(session, head, Buffer.alloc(k))).toString('hex');
      });
      attempt(c.name, 'C_UnwrapKey into a sensitive key, then C_SetAttributeValue EXTRACTABLE', () => {
        const object = p11.C_UnwrapKey(session, mechanism, key, head, compliant(pkcs11js.CKK_GENERIC_SECRET));
        p11.C_SetAttributeValue(session, object, [{ type: pkcs11js.CKA_SENSITIVE, value: false }, { type: pkcs11js.CKA_EXTRACTABLE, value: true }]);
        return value(object);
      });
      if (c.envelope) {
        // Two steps: the temporary key as the template demands (sensitive, non-extractable) but
        // able to unwrap, then the second layer under it into an extractable object.
        for (const kwp of [0x210b, 0x210a].filter((m) => mechs.has(m))) {
          attempt(c.name, `temporary key, then C_UnwrapKey 0x${kwp.toString(16)} into an extractable key`, () => {
            const temporary = p11.C_UnwrapKey(session, mechanism, key, head, compliant(pkcs11js.CKK_AES, [{ type: pkcs11js.CKA_UNWRAP, value: true }]));
            const object = p11.C_UnwrapKey(session, { mechanism: kwp }, temporary, ciphertext.subarray(k), readable(pkcs11js.CKK_GENERIC_SECRET));
            return value(object);
          });
        }
      }
    }
  }
  p11.C_CloseSession(session);
} finally {
  p11.C_Finalize();
}
process.stdout.write(JSON.stringify(out));
