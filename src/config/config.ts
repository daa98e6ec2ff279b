/**
 * The one reader of configuration: command-line flags, environment variables and config files,
 * resolved for every setting of settings.ts with one precedence — flag > environment > file >
 * default (an empty variable counts as unset) — into plain options for the engine, the backend,
 * auth and the listener. Nothing else in byok reads `process.env` or argv.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findPkcs11Module } from '../backends/pkcs11/device.js';
import type { Pkcs11BackendOptions } from '../backends/pkcs11/options.js';
import type { Clock } from '../clock.js';
import { ByokError } from '../errors.js';
import { isPostgresUrl, redactStoreUrl, type PostgresUrl } from '../store/store-url.js';
import { engineKeysFromEnv, type EngineKeys } from './key-files.js';
import { SETTINGS, type CommandName, type SettingDeclaration, type SettingName, type Settings, type SettingType } from './settings.js';

export type Source = 'flag' | 'env' | 'file' | 'default';

/** The settings of one command, resolved, with where each came from. */
export interface Config {
  readonly command: CommandName;
  readonly settings: Settings;
  /** Where each of the command's settings came from (absent: unset). */
  readonly sources: Readonly<Partial<Record<SettingName, Source>>>;
  readonly positionals: readonly string[];
}

/** A usage error: the CLI exits 2. */
const usage = (message: string) => new ByokError('INVALID_PARAMETER', message);

const declarations = Object.entries(SETTINGS) as Array<[SettingName, SettingDeclaration]>;

function settingsOf(command: CommandName): Array<[SettingName, SettingDeclaration]> {
  return declarations.filter(([, d]) => d.commands.includes(command));
}

type Raw = string | number | boolean;

function parseValue(type: SettingType, raw: Raw, where: string): string | number | boolean {
  switch (type.kind) {
    case 'string':
      if (typeof raw !== 'string') throw usage(`${where} must be a string`);
      return raw;
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === '1' || raw === 'true') return true;
      if (raw === '0' || raw === 'false') return false;
      throw usage(`${where} must be 1 or 0`);
    case 'integer': {
      const text = String(raw);
      const ok = (typeof raw === 'number' || typeof raw === 'string') && (/^-?[0-9]+$/.test(text) || (type.hex === true && /^0x[0-9a-fA-F]+$/.test(text)));
      const n = Number(text);
      if (!ok || n < type.min || n > type.max) throw usage(`${where} must be an integer in range`);
      return n;
    }
    case 'choice':
      if (typeof raw !== 'string' || !type.choices.includes(raw)) throw usage(`${where} must be one of ${type.choices.join('|')} (got '${String(raw).slice(0, 64)}')`);
      return raw;
  }
}

function readJsonFile(path: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw usage(`the ${what} ${path} ${code ? `cannot be read (${code})` : 'is not valid JSON'}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage(`the ${what} ${path} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

/** The file layer: `--config` (every file key) and `--pkcs11-config` (the pkcs11 section alone, which wins). */
function fileLayer(configPath: string | undefined, pkcs11Path: string | undefined): (key: string) => { raw: Raw; where: string } | undefined {
  const known = new Set(declarations.map(([, d]) => d.file).filter((k): k is string => k !== undefined));
  const files: Array<{ path: string; prefix: string; content: Record<string, unknown> }> = [];
  if (pkcs11Path) files.push({ path: pkcs11Path, prefix: 'pkcs11.', content: readJsonFile(pkcs11Path, 'PKCS#11 config file') });
  if (configPath) {
    const content = readJsonFile(configPath, 'config file');
    const section = content.pkcs11;
    if (section !== undefined && (typeof section !== 'object' || section === null || Array.isArray(section))) throw usage(`pkcs11 in ${configPath} must be an object`);
    files.push({ path: configPath, prefix: '', content: { ...content, pkcs11: undefined } });
    if (section) files.push({ path: configPath, prefix: 'pkcs11.', content: section as Record<string, unknown> });
  }
  for (const f of files) {
    for (const [k, v] of Object.entries(f.content)) {
      if (v !== undefined && !known.has(f.prefix + k)) throw usage(`unknown key '${(f.prefix + k).slice(0, 64)}' in ${f.path}`);
    }
  }
  return (key) => {
    for (const f of files) {
      if (!key.startsWith(f.prefix) || (f.prefix === '' && key.includes('.'))) continue;
      const v = f.content[key.slice(f.prefix.length)];
      if (v !== undefined && v !== null) return { raw: v as Raw, where: `${key} in ${f.path}` };
    }
    return undefined;
  };
}

/**
 * Resolve the settings of `command` from its argv, the environment and the config files.
 * Settings of other commands keep their defaults. Throws INVALID_PARAMETER (a usage error).
 */
export function readConfig(command: CommandName, argv: readonly string[], env: NodeJS.ProcessEnv = process.env, opts: { positionals?: boolean } = {}): Config {
  const own = settingsOf(command);
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [, d] of own) if (d.flag) options[d.flag] = { type: d.type.kind === 'boolean' ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: opts.positionals ?? false, strict: true });
  } catch (e) {
    throw usage((e as Error).message);
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>;
  const fromEnv = (name: string | undefined) => (name !== undefined && env[name] ? env[name] : undefined);
  const located = (name: SettingName) => {
    const d: SettingDeclaration = SETTINGS[name];
    return (d.flag !== undefined ? (flags[d.flag] as string | undefined) : undefined) ?? fromEnv(d.env);
  };
  const fromFile = fileLayer(own.some(([n]) => n === 'config') ? located('config') : undefined, own.some(([n]) => n === 'pkcs11Config') ? located('pkcs11Config') : undefined);

  const values: Record<string, unknown> = {};
  const sources: Partial<Record<SettingName, Source>> = {};
  for (const [name, d] of declarations) {
    if (d.default !== undefined) values[name] = d.default;
    if (!d.commands.includes(command)) continue;
    const flag = d.flag !== undefined ? flags[d.flag] : undefined;
    const variable = fromEnv(d.env);
    const file = d.file !== undefined ? fromFile(d.file) : undefined;
    let found: { raw: Raw; where: string; source: Source } | undefined;
    if (flag !== undefined) found = { raw: flag, where: `--${d.flag}`, source: 'flag' };
    else if (variable !== undefined) found = { raw: variable, where: d.env!, source: 'env' };
    else if (file) found = { ...file, source: 'file' };
    if (found) {
      values[name] = parseValue(d.type, found.raw, found.where);
      sources[name] = found.source;
    } else if (d.default !== undefined) {
      sources[name] = 'default';
    }
  }
  const config: Config = { command, settings: values as unknown as Settings, sources, positionals: parsed.positionals };
  USAGE_RULES[command]?.(config);
  return config;
}

/** A clock shifted by whole seconds, so drills see tokens and material expire without sleeping. */
export function offsetClock(seconds: number): Clock {
  return { now: () => Date.now() + seconds * 1000 };
}

/** The engine keys from their variables (key-files.ts parses them), or undefined: then `<dataDir>/keys.json`. */
function engineKeys(s: Settings): EngineKeys | undefined {
  return engineKeysFromEnv({
    BYOK_MASTER_KEY: s.masterKey, BYOK_TOKEN_SEALING_KEY: s.tokenSealingKey, BYOK_COMMITMENT_KEY: s.commitmentKey,
    BYOK_MASTER_KEY_ID: s.masterKeyId, BYOK_TOKEN_SEALING_KEY_ID: s.tokenSealingKeyId,
    BYOK_PREVIOUS_MASTER_KEYS: s.previousMasterKeys, BYOK_PREVIOUS_TOKEN_SEALING_KEYS: s.previousTokenSealingKeys,
  });
}

/** The PKCS#11 backend's options. BACKEND_UNAVAILABLE without a module or a PIN (a start-up failure). */
export function pkcs11Options(config: Config): Pkcs11BackendOptions {
  const s = config.settings;
  const modulePath = s.pkcs11Module ?? findPkcs11Module();
  if (!modulePath) throw new ByokError('BACKEND_UNAVAILABLE', 'No PKCS#11 module: set BYOK_PKCS11_MODULE or install SoftHSM2.');
  if (!s.pkcs11Pin) throw new ByokError('BACKEND_UNAVAILABLE', 'Set the token PIN in BYOK_PKCS11_PIN.');
  return {
    modulePath, pin: s.pkcs11Pin, sessions: s.pkcs11Sessions, allowHostOaepDecode: s.pkcs11HostDecode,
    ...(s.tokenLifetime !== undefined ? { tokenLifetimeSeconds: s.tokenLifetime } : {}),
    ...(s.pkcs11KeepWrappingKeys ? { keepWrappingKeysAfterImport: true } : {}),
    ...(s.pkcs11WrappingKeyLifetime !== undefined ? { wrappingKeyLifetimeSeconds: s.pkcs11WrappingKeyLifetime } : {}),
    ...(s.pkcs11InitParams !== undefined ? { libraryParameters: s.pkcs11InitParams } : {}),
    ...(s.pkcs11UnwrapTemplate !== undefined ? { unwrapTemplatePolicy: s.pkcs11UnwrapTemplate } : {}),
    ...(s.pkcs11TokenLabel !== undefined ? { tokenLabel: s.pkcs11TokenLabel } : {}),
    ...(s.pkcs11Slot !== undefined ? { slotIndex: s.pkcs11Slot } : {}),
    ...(s.pkcs11KwpMechanism !== undefined ? { kwpMechanism: s.pkcs11KwpMechanism } : {}),
    ...(s.pkcs11Namespace !== undefined ? { namespace: s.pkcs11Namespace } : {}),
  };
}

/** Where the API tokens come from, and the access keys given besides (ID:SECRET=tenant pairs). */
export type AuthSource = (
  | { readonly tokens: string; readonly source: string }
  | { readonly file: string; readonly createIfMissing: boolean }
) & { readonly accessKeys?: string };

/**
 * How long the HTTP server waits for a client (node's http.Server timeouts): a slow or silent
 * client is disconnected instead of holding a socket for ever (issue 14, defect 4).
 */
export interface HttpTimeouts {
  /** The whole request, headers and body (`requestTimeout`). */
  readonly requestMs: number;
  /** The headers (`headersTimeout`); at most `requestMs`. */
  readonly headersMs: number;
  /** Between requests on a keep-alive connection (`keepAliveTimeout`). */
  readonly keepAliveMs: number;
  /** A socket with no traffic at all (`server.setTimeout`, fastify's `connectionTimeout`). */
  readonly idleMs: number;
}

/** Requests per second per tenant for each expensive call, every dialect's together; 0: no limit (issue 14, fair use). */
export interface RateLimits {
  /** get-parameters-for-import / GetParametersForImport: may generate a wrapping key pair. */
  readonly getParametersForImport: number;
  /** import-key-material / ImportKeyMaterial: a private-key unwrap and a store write. */
  readonly importKeyMaterial: number;
}

/** The service's resolved options: where to listen, the engine's options, the backend, the tokens, the log level. */
export interface ServiceConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly timeouts: HttpTimeouts;
  readonly engine: {
    readonly dataDir: string;
    readonly workers: number;
    readonly keyGenerationWorkers: number;
    readonly tokenLifetimeSeconds: number;
    readonly wrappingKeyPoolDepth: number;
    readonly sqliteBusyTimeoutMs: number;
    readonly store?: PostgresUrl;
    readonly clock?: Clock;
    readonly keys?: EngineKeys;
  };
  readonly backend: 'pure' | { readonly pkcs11: Pkcs11BackendOptions };
  readonly auth: AuthSource;
  readonly rateLimits: RateLimits;
  /** The AWS dialect's account and region (its ARNs). */
  readonly aws: { readonly accountId: string; readonly region: string };
  readonly logLevel: Settings['logLevel'];
  /** Serve the web console at /console (default false). */
  readonly console?: boolean;
}

/** Settings that only mean something with --backend pkcs11 (an error on the pure backend when given as flags). */
const PKCS11_FLAGS: readonly SettingName[] = ['pkcs11Module', 'pkcs11InitParams', 'pkcs11UnwrapTemplate', 'pkcs11TokenLabel', 'pkcs11Slot', 'pkcs11Config'];

/** Usage rules across settings, checked by readConfig before anything is opened. */
const USAGE_RULES: Partial<Record<CommandName, (config: Config) => void>> = {
  serve: ({ settings: s, sources }) => {
    if (s.store !== 'sqlite' && !isPostgresUrl(s.store)) throw usage(`unknown store '${redactStoreUrl(s.store).slice(0, 64)}' (sqlite|postgres://...)`);
    if (s.backend === 'pure' && PKCS11_FLAGS.some((n) => sources[n] === 'flag')) throw usage('--pkcs11-* options need --backend pkcs11');
    // node refuses a headers timeout longer than the request timeout.
    if (s.headersTimeoutMs > s.requestTimeoutMs) throw usage('BYOK_HEADERS_TIMEOUT_MS must not exceed BYOK_REQUEST_TIMEOUT_MS');
    if (!/^[0-9]{12}$/.test(s.awsAccountId)) throw usage('BYOK_AWS_ACCOUNT_ID must be 12 digits');
    if (!/^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/.test(s.awsRegion)) throw usage(`BYOK_AWS_REGION must be a region name such as us-east-1 (got '${s.awsRegion.slice(0, 32)}')`);
  },
};

/**
 * `byok serve`'s options, from a config that passed its usage rules. Engine keys in the
 * environment that do not parse are INVALID_PARAMETER; a PKCS#11 selection without module or
 * PIN is BACKEND_UNAVAILABLE (start-up failures, not usage errors).
 */
export function serviceConfig(config: Config): ServiceConfig {
  const s = config.settings;
  const dataDir = s.dataDir;
  const tokensFrom = config.sources.authTokens === 'env' ? 'BYOK_AUTH_TOKENS' : 'authTokens in the config file';
  const accessKeys = s.accessKeys !== undefined ? { accessKeys: s.accessKeys } : {};
  const auth: AuthSource = s.authTokens !== undefined ? { tokens: s.authTokens, source: tokensFrom, ...accessKeys }
    : s.authFile !== undefined ? { file: s.authFile, createIfMissing: false, ...accessKeys }
    : { file: join(dataDir, 'auth-tokens.json'), createIfMissing: true, ...accessKeys };
  const keys = engineKeys(s);
  return {
    listen: { host: s.host, port: s.port },
    timeouts: { requestMs: s.requestTimeoutMs, headersMs: s.headersTimeoutMs, keepAliveMs: s.keepAliveTimeoutMs, idleMs: s.idleTimeoutMs },
    engine: {
      dataDir, workers: s.workers ?? availableParallelism(), keyGenerationWorkers: s.keygenWorkers, tokenLifetimeSeconds: s.tokenLifetime, wrappingKeyPoolDepth: s.keyPool,
      sqliteBusyTimeoutMs: s.sqliteBusyTimeoutMs,
      ...(isPostgresUrl(s.store) ? { store: s.store } : {}),
      ...(s.clockOffsetSeconds !== 0 ? { clock: offsetClock(s.clockOffsetSeconds) } : {}),
      ...(keys ? { keys } : {}),
    },
    backend: s.backend === 'pkcs11' ? { pkcs11: pkcs11Options(config) } : 'pure',
    auth,
    rateLimits: { getParametersForImport: s.rateLimitGetParameters, importKeyMaterial: s.rateLimitImport },
    aws: { accountId: s.awsAccountId, region: s.awsRegion },
    logLevel: s.logLevel,
    console: s.console,
  };
}
