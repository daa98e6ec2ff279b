/**
 * A second pkcs11js handle on a device's module: another part of this application (or a PIN
 * holder's tool) acting on the token beside the backend under test — logging it out, closing its
 * sessions, changing or spending the PIN, reading its objects back.
 *
 * In the same process the module is the backend's own (C_Initialize answers
 * CKR_CRYPTOKI_ALREADY_INITIALIZED), so a login or a logout here is the backend's too: PKCS#11
 * 2.40 §5.4 keeps the login state per application and token.
 */
import type * as Pkcs11Js from 'pkcs11js';
import { loadPkcs11Js, type Pkcs11Lib } from '../../src/backends/pkcs11/pkcs11js.js';
import type { DeviceToken } from './devices.js';

export interface SecondHandle {
  readonly l: Pkcs11Lib;
  readonly p11: Pkcs11Js.PKCS11;
  readonly slot: Buffer;
  /** CK_TOKEN_INFO.flags of the token now. */
  flags(): number;
  /** Run `fn` on a fresh R/W session of this handle, closed after. */
  session<T>(fn: (s: Buffer) => T): T;
  /** Private/secret token objects whose label starts with `prefix`, with attributes read. */
  objects(prefix: string, types: number[]): Array<{ label: string; values: Array<Buffer | undefined> }>;
}

export async function secondHandle(token: DeviceToken): Promise<SecondHandle> {
  const l = await loadPkcs11Js();
  const p11 = new l.PKCS11();
  p11.load(token.module);
  try {
    p11.C_Initialize({ flags: l.CKF_OS_LOCKING_OK });
  } catch (e) {
    if ((e as { code?: number }).code !== l.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
  }
  const slotOf = () => p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === token.label)!;
  const handle: SecondHandle = {
    l, p11,
    get slot() {
      return slotOf();
    },
    flags: () => p11.C_GetTokenInfo(slotOf()).flags,
    session(fn) {
      const s = p11.C_OpenSession(slotOf(), l.CKF_RW_SESSION | l.CKF_SERIAL_SESSION);
      try {
        return fn(s);
      } finally {
        try {
          p11.C_CloseSession(s);
        } catch { /* closed under us */ }
      }
    },
    objects(prefix, types) {
      return handle.session((s) => {
        p11.C_FindObjectsInit(s, [{ type: l.CKA_TOKEN, value: true }]);
        const found: Buffer[] = [];
        for (let batch = p11.C_FindObjects(s, 256); batch.length; batch = p11.C_FindObjects(s, 256)) found.push(...batch);
        p11.C_FindObjectsFinal(s);
        const out: Array<{ label: string; values: Array<Buffer | undefined> }> = [];
        for (const o of found) {
          const label = p11.C_GetAttributeValue(s, o, [{ type: l.CKA_LABEL }])[0].value?.toString() ?? '';
          if (!label.startsWith(prefix)) continue;
          out.push({ label, values: types.map((type) => { try { return p11.C_GetAttributeValue(s, o, [{ type }])[0].value as Buffer; } catch { return undefined; } }) });
        }
        return out;
      });
    },
  };
  return handle;
}
