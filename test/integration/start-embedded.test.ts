/**
 * `EMBEDDED=1 npm start` with DATABASE_URL and REDIS_URL unset and nothing at the defaults (the
 * test switch EMBEDDED_TEST_DEFAULTS_CLOSED=1): the daemon gets embedded servers (one line each),
 * a migrated database, is ready, and on SIGTERM exits 0 leaving no process. With
 * NODE_ENV=production it refuses at once.
 */
import { join } from 'node:path';

import { expect, it } from 'vitest';

import {
  embeddedDataDir,
  embeddedServerPids,
  leftovers,
  type Program,
  startProgram,
} from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const DIR = embeddedDataDir('cs-start-embedded-');

function start(extra: Record<string, string> = {}): Program {
  return startProgram(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    EMBEDDED: '1',
    EMBEDDED_DIR: DIR,
    EMBEDDED_TEST_DEFAULTS_CLOSED: '1',
    AGENT_ENGINE_URL: 'http://127.0.0.1:1',
    AGENT_ENGINE_CLIENT_ID: 'id',
    AGENT_ENGINE_CLIENT_SECRET: 'secret',
    HOST: '127.0.0.1',
    PORT: '0',
    SWEEP_EVERY: '1h',
    LOG_LEVEL: 'info',
    ...extra,
  });
}

it('starts embedded servers, migrates, is ready, and stops leaving no process', async () => {
  const daemon = start();
  const started = /"url":"(http:\/\/127\.0\.0\.1:\d+)".*"msg":"customer-sync daemon started"/;
  const url = await waitFor(() => started.exec(daemon.err())?.[1], {
    timeoutMs: 90_000,
    what: 'the daemon started',
  }).catch((error: Error) => {
    throw new Error(`${error.message}; stdout:\n${daemon.out()}\nstderr:\n${daemon.err()}`);
  });
  expect(daemon.err()).toMatch(
    /^customer-sync: Postgres: nothing answers at 127\.0\.0\.1:1; started an embedded one in \d+\.\ds/m,
  );
  expect(daemon.err()).toMatch(
    /^customer-sync: Redis: nothing answers at 127\.0\.0\.1:1; started an embedded one in \d+\.\ds/m,
  );
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, {
    what: 'GET /readyz 200 (Postgres, Redis and workers ready)',
  });
  const pids = embeddedServerPids(DIR);
  daemon.child.kill('SIGTERM');
  expect(await daemon.exited).toBe(0);
  expect(leftovers(pids, DIR)).toEqual([]);
});

it('refuses EMBEDDED=1 with NODE_ENV=production, starting nothing', async () => {
  const daemon = start({ NODE_ENV: 'production', EMBEDDED_DIR: join(DIR, 'never') });
  expect(await daemon.exited).toBe(2);
  expect(daemon.err()).toMatch(/^customer-sync: EMBEDDED=1 is refused with NODE_ENV=production/);
  expect(leftovers([], join(DIR, 'never'))).toEqual([]);
});
