/**
 * Attribute-array attributes (CKA_UNWRAP_TEMPLATE, PKCS#11 2.40 §4.1.4), which pkcs11js 2.1.7
 * cannot pass ("Element N has wrong type"): our N-API addon native-bindings/pkcs11-attrs makes
 * those calls on the module pkcs11js already loaded (same library instance, so pkcs11js's session
 * and object handles are valid there). The built `.node` file is found by walking up from this
 * file to the package root; a missing build is reported, never a crash.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Pkcs11Js from 'pkcs11js';
import type { Handle, Pkcs11Lib } from './pkcs11js.js';

/**
 * A pkcs11js attribute, or one whose value is itself a template (attribute-array types) or
 * CK_ULONGs (CKA_ALLOWED_MECHANISMS).
 */
export interface ArrayAttribute {
  readonly type: number;
  readonly value?: Pkcs11Js.Attribute['value'] | readonly number[] | readonly ArrayAttribute[];
}
export type ArrayTemplate = readonly ArrayAttribute[];

/** The addon takes what pkcs11js takes, but dates as their CK_DATE text (YYYYMMDD). */
function forAddon(template: ArrayTemplate): ArrayTemplate {
  return template.map(({ type, value }) => {
    if (value instanceof Date) return { type, value: value.toISOString().slice(0, 10).replaceAll('-', '') };
    if (Array.isArray(value) && value.some((v) => typeof v === 'object')) return { type, value: forAddon(value as ArrayTemplate) };
    return { type, value };
  });
}

interface AddonModule { readonly __module: unique symbol }

/** What native-bindings/pkcs11-attrs/src/pkcs11_attrs.c exports. */
interface Pkcs11AttrsAddon {
  openModule(path: string): AddonModule;
  generateKeyPair(module: AddonModule, session: Handle, mechanism: number, publicTemplate: ArrayTemplate, privateTemplate: ArrayTemplate): Promise<{ publicKey: Handle; privateKey: Handle }>;
  getAttributeTemplate(module: AddonModule, session: Handle, object: Handle, type: number): Array<{ type: number; value: Buffer }>;
}

const ADDON = join('native-bindings', 'pkcs11-attrs', 'build', 'Release', 'pkcs11_attrs.node');

/** The built addon from this file's directory upwards (src/… in the repository, dist/src/… when built). */
function findAddon(): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

let loaded: Pkcs11AttrsAddon | { readonly missing: string } | undefined;

function loadAddon(): Pkcs11AttrsAddon | { readonly missing: string } {
  if (loaded) return loaded;
  const path = findAddon();
  if (!path) {
    loaded = { missing: `the pkcs11-attrs addon is not built (${ADDON}; run: npx byok build-native)` };
  } else {
    try {
      loaded = createRequire(import.meta.url)(path) as Pkcs11AttrsAddon;
    } catch (e) {
      loaded = { missing: `the pkcs11-attrs addon at ${path} does not load (${(e as Error).message}; run: npx byok build-native)` };
    }
  }
  return loaded;
}

/** A native failure as pkcs11js's own Pkcs11Error, so ckr.ts maps it like any other device error. */
function asPkcs11Error(lib: Pkcs11Lib, e: unknown): unknown {
  const { code, method } = e as { code?: unknown; method?: unknown };
  if (typeof code !== 'number' || typeof method !== 'string') return e;
  return new lib.Pkcs11Error((e as Error).message, code, method);
}

/** The calls with attribute arrays, on one loaded module. */
export class AttributeArrays {
  private constructor(private readonly lib: Pkcs11Lib, private readonly addon: Pkcs11AttrsAddon, private readonly module: AddonModule) {}

  /** The addon bound to the module pkcs11js loaded from `modulePath` (its real path), or why not. */
  static open(lib: Pkcs11Lib, modulePath: string): AttributeArrays | { readonly missing: string } {
    const addon = loadAddon();
    if ('missing' in addon) return addon;
    try {
      return new AttributeArrays(lib, addon, addon.openModule(modulePath));
    } catch (e) {
      return { missing: `the pkcs11-attrs addon cannot reach ${modulePath} (${(e as Error).message})` };
    }
  }

  /** C_GenerateKeyPair (on the libuv pool) with templates that may hold attribute arrays. */
  async generateKeyPair(session: Handle, mechanism: number, publicTemplate: ArrayTemplate, privateTemplate: ArrayTemplate): Promise<Pkcs11Js.KeyPair> {
    try {
      return await this.addon.generateKeyPair(this.module, session, mechanism, forAddon(publicTemplate), forAddon(privateTemplate));
    } catch (e) {
      throw asPkcs11Error(this.lib, e);
    }
  }

  /** The template an attribute-array attribute of `object` holds, values as raw bytes. */
  getAttributeTemplate(session: Handle, object: Handle, type: number): Array<{ type: number; value: Buffer }> {
    try {
      return this.addon.getAttributeTemplate(this.module, session, object, type);
    } catch (e) {
      throw asPkcs11Error(this.lib, e);
    }
  }
}
