/**
 * `npm run demo` end to end, twice on the same database and prefix (a re-run starts clean): wait
 * for the converged line, run the printed signed `curl`, see the rename applied, stop with
 * SIGTERM and exit 0. And with Redis unreachable: which, where, how to start it, exit non-zero.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, expect, inject, it } from 'vitest';

import { withDatabase } from '../support/global-setup.js';
import { deletePrefix } from '../support/redis.js';
import { type Program, startProgram } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const suffix = randomBytes(4).toString('hex');
const DATABASE_URL = withDatabase(inject('databaseUrl'), `cs_demo_test_${suffix}`);
const PREFIX = `cs-demo-test-${suffix}`;

afterAll(async () => {
  await deletePrefix(PREFIX);
  const admin = new pg.Client({
    connectionString: withDatabase(inject('databaseUrl'), 'postgres'),
  });
  await admin.connect();
  await admin.query(`drop database if exists "cs_demo_test_${suffix}" with (force)`);
  await admin.end();
});

type Demo = Program;

function startDemo(env: Record<string, string>): Demo {
  // The script is `exec tsx …`, so npm's forwarded SIGTERM reaches the demo itself whatever
  // /bin/sh is (dash would otherwise be killed instead, and npm exit 143).
  return startProgram('npm', ['run', 'demo'], env);
}

const demoEnv = { DATABASE_URL, REDIS_URL: inject('redisUrl'), QUEUE_PREFIX: PREFIX, PORT: '0' };

async function untilConverged(demo: Demo): Promise<void> {
  await waitFor(() => /^converged: /m.test(demo.out()) && demo.out().includes('Ctrl-C'), {
    timeoutMs: 45_000,
    intervalMs: 100,
    what: `the converged line; stdout so far:\n${demo.out()}\nstderr:\n${demo.err()}`,
  });
}

async function stop(demo: Demo): Promise<number | string> {
  demo.child.kill('SIGTERM');
  return demo.exited;
}

it('converges, takes the printed signed webhook, stops cleanly on SIGTERM, and re-runs', async () => {
  const first = startDemo(demoEnv);
  await untilConverged(first);
  expect(first.out()).toMatch(/^converged: 46 workspaces in step with 48 customers/m);
  expect(first.out()).toMatch(/^result: /m);
  expect(await stop(first)).toBe(0);
  expect(first.out()).toMatch(/demo stopped\n$/);

  // A re-run resets its own tables and prefix and converges again.
  const second = startDemo(demoEnv);
  await untilConverged(second);
  expect(second.out()).toMatch(/^converged: 46 workspaces in step with 48 customers/m);
  const curl = /^curl [\s\S]*?--data '.*'$/m.exec(second.out())?.[0];
  expect(curl).toBeDefined();
  expect(second.out()).toMatch(/valid for 5 minutes/);
  const response = await new Promise<string>((resolve, reject) =>
    execFile('bash', ['-c', curl ?? ''], (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
  expect(response).toMatch(/^HTTP\/1\.1 200/);

  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    await waitFor(
      async () => {
        const { rows } = await db.query(
          `select 1 from customers c join audit a on a.customer_id = c.id
            where c.id = 'cus_002' and c.name = 'Globex Corporation'
              and a.action = 'rename' and a.trigger = 'webhook' and a.outcome = 'ok'`,
        );
        return rows.length === 1;
      },
      { what: 'the webhook rename applied' },
    );
  } finally {
    await db.end();
  }
  expect(await stop(second)).toBe(0);
});

it('says which service is unreachable, where, and how to start it', async () => {
  const demo = startDemo({ ...demoEnv, REDIS_URL: 'redis://127.0.0.1:1' });
  expect(await demo.exited).toBe(1);
  expect(demo.err()).toMatch(
    /cannot reach Redis at redis:\/\/127\.0\.0\.1:1 .*docker compose up -d postgres redis/,
  );
  expect(demo.err()).not.toMatch(/Postgres/);
});
