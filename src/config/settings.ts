/**
 * Every setting byok reads, declared once: its command-line flag, environment variable and
 * config-file key, its type and default, the commands that take it, and what it means. The
 * one precedence is flag > environment > file > default (config.ts); the README's configuration
 * table is generated from this declaration (settings-table.ts), so the two cannot drift.
 * Secrets (PIN, tokens, engine keys) have no flag: `ps` shows command lines.
 */

export type CommandName = 'serve' | 'kat' | 'import' | 'wrap' | 'pkcs11';

export type SettingType =
  | { readonly kind: 'string' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number; readonly hex?: boolean }
  | { readonly kind: 'choice'; readonly choices: readonly string[] };

export interface SettingDeclaration {
  /** Long option name without the dashes. */
  readonly flag?: string;
  readonly env?: string;
  /** Key in the `--config` JSON file; `pkcs11.x` is `{"pkcs11": {"x": …}}` there, or `x` in `--pkcs11-config`. */
  readonly file?: string;
  readonly type: SettingType;
  readonly default?: string | number | boolean;
  /** The default in words, where it is computed or lives elsewhere. */
  readonly defaultText?: string;
  readonly commands: readonly CommandName[];
  readonly meaning: string;
}

const STRING = { kind: 'string' } as const;
const BOOLEAN = { kind: 'boolean' } as const;
const int = (min: number, max: number, hex = false) => ({ kind: 'integer', min, max, ...(hex ? { hex } : {}) } as const);
const SERVE = ['serve'] as const;
const DEVICE = ['serve', 'kat', 'pkcs11'] as const;
/** The engine keys are read by key-files.ts from exactly these variables (all three or none). */
const ENGINE_KEY = { type: STRING, commands: SERVE, defaultText: 'DATA_DIR/keys.json' } as const;

/** An HTTP server timeout of `byok serve` (issue 14, defect 4): BYOK_<NAME>_TIMEOUT_MS, milliseconds. */
const httpTimeout = <D extends number>(name: string, file: string, defaultMs: D, meaning: string) =>
  ({ env: `BYOK_${name}_TIMEOUT_MS`, file, type: int(1, 3_600_000), default: defaultMs, commands: SERVE, meaning }) as const;

export const SETTINGS = {
  config: { flag: 'config', env: 'BYOK_CONFIG', type: STRING, commands: DEVICE, meaning: 'a JSON file of settings, by the file keys of this table' },
  host: { flag: 'host', env: 'BYOK_HOST', file: 'host', type: STRING, default: '127.0.0.1', commands: SERVE, meaning: 'address to listen on' },
  port: { flag: 'port', env: 'BYOK_PORT', file: 'port', type: int(0, 65535), default: 8080, commands: SERVE, meaning: 'port to listen on (0 picks a free one)' },
  dataDir: {
    flag: 'data-dir', env: 'BYOK_DATA_DIR', file: 'dataDir', type: STRING, default: './data', commands: SERVE,
    meaning: 'keys.json, byok.sqlite and auth-tokens.json live here, created on first run',
  },
  backend: {
    flag: 'backend', env: 'BYOK_BACKEND', file: 'backend', type: { kind: 'choice', choices: ['pure', 'pkcs11'] }, default: 'pure', commands: DEVICE,
    meaning: 'pure (TypeScript) or pkcs11 (a PKCS#11 device through pkcs11js)',
  },
  store: {
    flag: 'store', env: 'BYOK_STORE_URL', file: 'store', type: STRING, default: 'sqlite', commands: SERVE,
    meaning: 'sqlite (DATA_DIR/byok.sqlite) or a postgres:// URL shared by several instances (password in PGPASSWORD or ~/.pgpass)',
  },
  authFile: {
    flag: 'auth-file', env: 'BYOK_AUTH_FILE', file: 'authFile', type: STRING, defaultText: 'DATA_DIR/auth-tokens.json, created with one admin token printed once', commands: SERVE,
    meaning: 'API tokens: JSON {"token": "tenant"} or token=tenant lines',
  },
  authTokens: { env: 'BYOK_AUTH_TOKENS', file: 'authTokens', type: STRING, commands: SERVE, meaning: 'API tokens as token=tenant pairs; when set, used instead of the tokens file' },
  accessKeys: {
    env: 'BYOK_ACCESS_KEYS', file: 'accessKeys', type: STRING, commands: SERVE,
    meaning: 'access keys for signed requests (TC3-HMAC-SHA256, SDK-HMAC-SHA256, SigV4) as ID:SECRET=tenant pairs (tenant/project binds a Huawei project); added to the auth file\'s',
  },
  workers: { flag: 'workers', env: 'BYOK_WORKERS', file: 'workers', type: int(0, 256), defaultText: 'the number of cores', commands: SERVE, meaning: 'worker threads for private-key work (0: inline)' },
  keygenWorkers: {
    flag: 'keygen-workers', env: 'BYOK_KEYGEN_WORKERS', file: 'keygenWorkers', type: int(1, 256), default: 1, commands: SERVE,
    meaning: 'worker threads of their own that refill the wrapping-key pool (the core count: a sustained stream of full cycles)',
  },
  tokenLifetime: {
    flag: 'token-lifetime', env: 'BYOK_TOKEN_LIFETIME_SECONDS', file: 'tokenLifetimeSeconds', type: int(1, 7 * 86400), default: 86400, commands: SERVE,
    meaning: 'import token lifetime, seconds',
  },
  keyPool: {
    flag: 'key-pool', env: 'BYOK_KEY_POOL', file: 'keyPool', type: int(0, 1024), default: 4, commands: SERVE,
    meaning: 'wrapping key pairs generated ahead per default spec (RSA_2048, SM2); 0: per request',
  },
  logLevel: {
    flag: 'log-level', env: 'BYOK_LOG_LEVEL', file: 'logLevel', type: { kind: 'choice', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    default: 'info', commands: SERVE, meaning: 'pino log level',
  },
  sqliteBusyTimeoutMs: {
    env: 'BYOK_SQLITE_BUSY_TIMEOUT_MS', file: 'sqliteBusyTimeoutMs', type: int(0, 3_600_000), default: 10_000, commands: SERVE,
    meaning: 'how long a write waits for the SQLite database lock, ms',
  },
  requestTimeoutMs: httpTimeout('REQUEST', 'requestTimeoutMs', 30_000, 'a request (headers and body) must arrive within this, ms, or its socket is closed (408)'),
  headersTimeoutMs: httpTimeout('HEADERS', 'headersTimeoutMs', 10_000, 'the request headers must arrive within this, ms (at most the request timeout)'),
  keepAliveTimeoutMs: httpTimeout('KEEP_ALIVE', 'keepAliveTimeoutMs', 5_000, 'an idle keep-alive connection is closed after this, ms'),
  idleTimeoutMs: httpTimeout('IDLE', 'idleTimeoutMs', 60_000, 'a socket with no traffic either way is closed after this, ms'),
  rateLimitGetParameters: {
    flag: 'rate-limit-get-parameters', env: 'BYOK_RATE_LIMIT_GET_PARAMETERS', file: 'rateLimitGetParameters', type: int(0, 1_000_000), default: 100, commands: SERVE,
    meaning: 'requests per second per tenant to get-parameters-for-import / GetParametersForImport (0: no limit)',
  },
  rateLimitImport: {
    flag: 'rate-limit-import', env: 'BYOK_RATE_LIMIT_IMPORT', file: 'rateLimitImport', type: int(0, 1_000_000), default: 100, commands: SERVE,
    meaning: 'requests per second per tenant to import-key-material / ImportKeyMaterial (0: no limit)',
  },
  console: { env: 'BYOK_CONSOLE', file: 'console', type: BOOLEAN, default: true, commands: SERVE, meaning: 'serve the web console at /console (false: not served)' },
  clockOffsetSeconds: { env: 'BYOK_TEST_CLOCK_OFFSET_SECONDS', type: int(-(2 ** 30), 2 ** 30), default: 0, commands: SERVE, meaning: 'shift the service clock (tests and expiry drills only)' },
  awsAccountId: {
    flag: 'aws-account-id', env: 'BYOK_AWS_ACCOUNT_ID', file: 'awsAccountId', type: STRING, default: '111122223333', commands: SERVE,
    meaning: 'the AWS dialect\'s account ID (12 digits): in the key ARNs it answers with and accepts',
  },
  awsRegion: {
    flag: 'aws-region', env: 'BYOK_AWS_REGION', file: 'awsRegion', type: STRING, default: 'us-east-1', commands: SERVE,
    meaning: 'the AWS dialect\'s region: in the key ARNs it answers with and accepts',
  },

  masterKey: { ...ENGINE_KEY, env: 'BYOK_MASTER_KEY', meaning: 'engine master key (base64, 32 bytes): seals material at rest; with the next two, instead of keys.json' },
  tokenSealingKey: { ...ENGINE_KEY, env: 'BYOK_TOKEN_SEALING_KEY', meaning: 'token-sealing key (base64, 32 bytes): seals import tokens' },
  commitmentKey: { ...ENGINE_KEY, env: 'BYOK_COMMITMENT_KEY', meaning: 'commitment key (base64, 32 bytes): keys material commitments; never rotates' },
  masterKeyId: { env: 'BYOK_MASTER_KEY_ID', type: STRING, default: 'env', commands: SERVE, meaning: 'ID of BYOK_MASTER_KEY (rotation: a new key gets a new ID)' },
  tokenSealingKeyId: { env: 'BYOK_TOKEN_SEALING_KEY_ID', type: STRING, default: 'env', commands: SERVE, meaning: 'ID of BYOK_TOKEN_SEALING_KEY' },
  previousMasterKeys: { env: 'BYOK_PREVIOUS_MASTER_KEYS', type: STRING, commands: SERVE, meaning: 'rotation: older master keys, id:base64,… (they still open what they sealed)' },
  previousTokenSealingKeys: { env: 'BYOK_PREVIOUS_TOKEN_SEALING_KEYS', type: STRING, commands: SERVE, meaning: 'rotation: older token-sealing keys, id:base64,… (drop once their tokens expired)' },

  pkcs11Config: { flag: 'pkcs11-config', env: 'BYOK_PKCS11_CONFIG', type: STRING, commands: DEVICE, meaning: 'a JSON file of the pkcs11.* keys without the prefix, e.g. {"pin": "…"}' },
  pkcs11Module: { flag: 'pkcs11-module', env: 'BYOK_PKCS11_MODULE', file: 'pkcs11.modulePath', type: STRING, defaultText: 'SoftHSM2\'s, if installed', commands: DEVICE, meaning: 'the PKCS#11 module (.so)' },
  pkcs11InitParams: {
    flag: 'pkcs11-init-params', env: 'BYOK_PKCS11_INIT_PARAMS', file: 'pkcs11.libraryParameters', type: STRING, commands: DEVICE,
    meaning: 'C_Initialize library parameters, e.g. NSS softoken\'s configdir=\'sql:DIR\' certPrefix=\'\' keyPrefix=\'\' secmod=\'secmod.db\'',
  },
  pkcs11TokenLabel: { flag: 'pkcs11-token-label', env: 'BYOK_PKCS11_TOKEN_LABEL', file: 'pkcs11.tokenLabel', type: STRING, commands: DEVICE, meaning: 'choose the token by label' },
  pkcs11Slot: { flag: 'pkcs11-slot', env: 'BYOK_PKCS11_SLOT', file: 'pkcs11.slotIndex', type: int(0, 2 ** 20), commands: DEVICE, meaning: 'or by index in the slot list' },
  pkcs11Pin: { env: 'BYOK_PKCS11_PIN', file: 'pkcs11.pin', type: STRING, commands: DEVICE, meaning: 'the token\'s user PIN (required with --backend pkcs11)' },
  pkcs11Sessions: { env: 'BYOK_PKCS11_SESSIONS', file: 'pkcs11.sessions', type: int(1, 256), default: 4, commands: DEVICE, meaning: 'PKCS#11 sessions in the pool' },
  pkcs11HostDecode: {
    env: 'BYOK_PKCS11_HOST_DECODE', file: 'pkcs11.allowHostOaepDecode', type: BOOLEAN, default: false, commands: DEVICE,
    meaning: 'opt-in: decode OAEP in TypeScript where the device lacks the hash (the material passes through host memory)',
  },
  pkcs11KwpMechanism: {
    env: 'BYOK_PKCS11_KWP_MECHANISM', file: 'pkcs11.kwpMechanism', type: int(0, 2 ** 32 - 1, true), defaultText: 'the first of 0x210B, 0x210A that runs an RFC 5649 vector', commands: DEVICE,
    meaning: 'mechanism of AES key wrap with padding, e.g. 0x210B (PKCS#11 3.0 KWP)',
  },
  pkcs11UnwrapTemplate: {
    flag: 'pkcs11-unwrap-template', env: 'BYOK_PKCS11_UNWRAP_TEMPLATE', file: 'pkcs11.unwrapTemplatePolicy', type: { kind: 'choice', choices: ['required', 'best-effort'] },
    default: 'required', commands: SERVE,
    meaning: 'required: start only where the device enforces the wrapping keys\' CKA_UNWRAP_TEMPLATE (checked at start-up; needs the pkcs11-attrs addon); best-effort: start anyway and report it',
  },
  pkcs11KeepWrappingKeys: {
    env: 'BYOK_PKCS11_KEEP_WRAPPING_KEYS', file: 'pkcs11.keepWrappingKeysAfterImport', type: BOOLEAN, default: false, commands: DEVICE,
    meaning: 'keep a device wrapping key after its import succeeded, so its token can import the same material again until it expires',
  },
  pkcs11Namespace: {
    flag: 'pkcs11-namespace', env: 'BYOK_PKCS11_NAMESPACE', file: 'pkcs11.namespace', type: STRING, commands: DEVICE,
    meaning: 'the wrapping keys\' namespace on a shared token: the sweeper destroys only its own (one per deployment; its instances share it)',
  },
  pkcs11WrappingKeyLifetime: {
    file: 'pkcs11.wrappingKeyLifetimeSeconds', type: int(1, 2 ** 31), defaultText: 'the token lifetime + 2 h', commands: DEVICE,
    meaning: 'seconds a device wrapping key lives before the sweeper may destroy it',
  },

  katVerbose: { flag: 'verbose', type: BOOLEAN, default: false, commands: ['kat'], meaning: 'also list the IDs of skipped cases' },

  endpoint: { flag: 'endpoint', type: STRING, commands: ['import'], meaning: 'the service, e.g. http://127.0.0.1:8080' },
  authToken: { env: 'BYOK_AUTH_TOKEN', type: STRING, commands: ['import'], meaning: 'the API token (X-Auth-Token)' },
  keyId: { flag: 'key-id', type: STRING, commands: ['import'], meaning: 'an external key' },
  projectId: { flag: 'project-id', type: STRING, default: 'default', commands: ['import'], meaning: 'the {project_id} path segment' },
  importAlgorithm: { flag: 'algorithm', type: STRING, default: 'RSAES_OAEP_SHA_256', commands: ['import'], meaning: 'the wrapping algorithm' },
  wrappingKeySpec: { flag: 'wrapping-key-spec', type: STRING, defaultText: 'RSA_2048 for RSA', commands: ['import'], meaning: 'the wrapping key spec' },
  expirationTime: { flag: 'expiration-time', type: int(0, 9_999_999_999), commands: ['import'], meaning: 'material expiry, seconds since the epoch (default: never)' },
  wrapAlgorithm: { flag: 'algorithm', type: STRING, commands: ['wrap'], meaning: 'the wrapping algorithm (required)' },
  publicKey: { flag: 'public-key', type: STRING, commands: ['wrap'], meaning: 'the import public key: the API\'s base64, DER or PEM' },
  out: { flag: 'out', type: STRING, defaultText: 'stdout', commands: ['wrap'], meaning: 'where to write the wrapped key' },
  materialFile: { flag: 'in', type: STRING, commands: ['import', 'wrap'], meaning: 'the plaintext material: 32 bytes (AES_256), 16 (SM4), 28..64 (HMAC)' },
  privateKeyFile: { flag: 'private-key', type: STRING, commands: ['import', 'wrap'], meaning: 'or an asymmetric private key (PEM or DER; PKCS#8, SEC1 or PKCS#1), sent as PKCS#8' },
} as const satisfies Record<string, SettingDeclaration>;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<T extends SettingType> =
  T extends { kind: 'integer' } ? number : T extends { kind: 'boolean' } ? boolean : T extends { kind: 'choice'; choices: readonly (infer C)[] } ? C : string;

/** A resolved setting: its type, never undefined when it has a default. */
export type SettingValue<N extends SettingName> = (typeof SETTINGS)[N] extends { default: unknown }
  ? ValueOf<(typeof SETTINGS)[N]['type']>
  : ValueOf<(typeof SETTINGS)[N]['type']> | undefined;

export type Settings = { readonly [N in SettingName]: SettingValue<N> };
