/**
 * Debian's headless Chromium driven by puppeteer-core (which downloads nothing). Without
 * Chromium the browser tests skip with the reason locally and fail in CI (CI or
 * BYOK_REQUIRE_CHROMIUM=1), where the console's tests are required.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM_REQUIRED = Boolean(process.env.CI) || process.env.BYOK_REQUIRE_CHROMIUM === '1';
export const CHROMIUM_PATH = process.env.BYOK_CHROMIUM_PATH ?? '/usr/bin/chromium';

const NOT_INSTALLED = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium)`;

/** Why Chromium cannot run here, known when the tests are collected (for `describe.skipIf`); throws where it is required. */
export function chromiumUnavailable(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (CHROMIUM_REQUIRED) throw new Error(`The browser tests are required here, but ${NOT_INSTALLED}`);
  return NOT_INSTALLED;
}

/** A headless Chromium that saves downloads into `downloadPath`. */
export function launchChromium(downloadPath: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // --no-sandbox: the tests run as root in CI containers, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
    downloadBehavior: { policy: 'allow', downloadPath },
    defaultViewport: { width: 1280, height: 900 },
  });
}
