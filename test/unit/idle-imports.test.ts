/**
 * What a daemon on real services loads at start: not drizzle-orm (106 modules, several MiB of an
 * idle daemon's memory; only an operator's typed reads and the embedded servers' migrations use
 * it, and they load it on first use) and not the embedded servers. The daemon's entry is imported
 * with a bad setting, so it stops at its configuration, after every static import has loaded.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect, it } from 'vitest';

const run = promisify(execFile);

it('the daemon loads neither drizzle-orm nor the embedded servers until they are used', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'idle-imports-'));
  const log = join(dir, 'loaded.txt');
  try {
    const stopped = await run(
      process.execPath,
      ['--import', 'tsx', '--import', './test/support/loadLog.mjs', 'src/main.ts'],
      { env: { PATH: process.env.PATH, LOAD_LOG: log, SWEEP_EVERY: 'never' } },
    ).catch((error: { code?: number; stderr?: string }) => error);
    expect((stopped as { code?: number }).code).toBe(2);
    expect((stopped as { stderr?: string }).stderr).toMatch(/SWEEP_EVERY="never" is invalid/);
    const loaded = (await readFile(log, 'utf8')).split('\n');
    // It did load the daemon's own code: the check is not vacuous.
    expect(loaded.some((url) => url.endsWith('/src/daemon.ts'))).toBe(true);
    expect(loaded.filter((url) => url.includes('/node_modules/drizzle-orm/'))).toEqual([]);
    expect(loaded.filter((url) => url.includes('/src/embedded/'))).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 30_000);
