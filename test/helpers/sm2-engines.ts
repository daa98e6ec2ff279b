/**
 * The two SM2 engines every SM2 test runs on: the TypeScript one (always there) and the
 * OpenSSL addon (native-bindings/sm2). Without the addon built its suites skip with the reason
 * locally; under `npm test` (which builds native-bindings strictly first), CI or
 * BYOK_REQUIRE_NATIVE=1 a missing addon fails the file instead.
 */
import { sm2Engine, type Sm2EngineName } from '../../src/algorithms/sm2/index.js';

export const SM2_ADDON_REQUIRED = process.env.npm_lifecycle_event === 'test' || Boolean(process.env.CI) || process.env.BYOK_REQUIRE_NATIVE === '1';

/** Why the addon cannot run here (for `describe.skipIf`), or undefined; throws where it is required. */
export function sm2AddonUnavailable(): string | undefined {
  const choice = sm2Engine();
  if (choice.engine === 'openssl-addon') return undefined;
  if (SM2_ADDON_REQUIRED) throw new Error(`the SM2 addon is required here: ${choice.detail}`);
  return choice.detail;
}

export const SM2_ENGINES: readonly Sm2EngineName[] = ['typescript', 'openssl-addon'];

/** Skip reason of an engine's suite: only the addon's can be missing. */
export function engineUnavailable(engine: Sm2EngineName): string | undefined {
  return engine === 'openssl-addon' ? sm2AddonUnavailable() : undefined;
}
