/**
 * Finds a Chromium for the browser tests: CHROMIUM_PATH, else Debian's package (`apt-get install
 * chromium`, which `.ci/run` does). Playwright drives it; no browser is downloaded.
 */
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium(): string | undefined {
  const wanted = process.env.CHROMIUM_PATH;
  if (wanted) return existsSync(wanted) ? wanted : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}
