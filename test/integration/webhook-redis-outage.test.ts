/**
 * A webhook is answered within a second even when Redis hangs or is down (issue 10): recording the
 * event in Postgres is what accepts it; queueing its sync is bounded, and an event whose sync was
 * not queued is queued later by itself, with no sweep. A private redis-server on a spare port
 * stands in for the outage: SIGSTOPped (a hang: connections open, nothing answered) or killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';

import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { createQueues, SWEEP_SCHEDULER_ID } from '../../src/sync/queues.js';
import { signStandardWebhooks } from '../support/webhookSigners.js';
import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'whsec_UmVkaXNPdXRhZ2VUZXN0U2VjcmV0MDEyMzQ1';

let h: Harness | undefined;
let redis: ChildProcess | undefined;
afterEach(async () => {
  // A daemon closes its queues on a Redis that answers: bring it back if a test left it down.
  if (h && !redis) await startRedis().catch(() => {});
  redis?.kill('SIGCONT');
  await h?.close();
  h = undefined;
  await stopRedis();
});

const port = 20_000 + Math.floor(Math.random() * 20_000);
const url = `redis://127.0.0.1:${port}`;

/** A throwaway redis-server on `port`, no persistence: a restart loses everything. */
async function startRedis(): Promise<void> {
  redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await waitFor(
    async () => {
      const probe = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    },
    { timeoutMs: 10_000, what: 'the private redis-server' },
  );
}

async function stopRedis(): Promise<void> {
  const child = redis;
  redis = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** The sweep schedule's first run an hour away, so nothing here is found by a sweep. */
async function scheduleAhead(prefix: string): Promise<void> {
  const connection = new Redis(url, { maxRetriesPerRequest: 1 });
  const queues = createQueues(connection, prefix);
  await queues.sweep.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: 3_600_000, startDate: Date.now() + 3_600_000 },
    { name: 'sweep', data: { trigger: 'schedule' } },
  );
  await queues.close();
  connection.disconnect();
}

async function send(daemonUrl: string, id: string, name: string) {
  const body = JSON.stringify({
    type: 'customer.created',
    timestamp: new Date().toISOString(),
    data: { id, name },
  });
  const headers = signStandardWebhooks(SECRET, body, {
    id: `msg_${id}`,
    timestamp: Math.floor(Date.now() / 1000),
  });
  const started = performance.now();
  // Bounded, so a webhook that hangs fails this test in seconds instead of hanging it.
  const answer = await request(`${daemonUrl}/webhooks/billing`, {
    method: 'POST',
    headers,
    body,
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  return {
    status: answer.statusCode,
    body: await answer.body.json(),
    ms: performance.now() - started,
  };
}

async function daemonOnPrivateRedis() {
  await startRedis();
  h = await startHarness({ env: { BILLING_WEBHOOK_SECRET: SECRET } });
  await scheduleAhead(h.prefix);
  return h.startDaemon({}, { REDIS_URL: url });
}

const sweeps = async () =>
  (await h!.database.pool.query<{ n: number }>('select count(*)::int as n from sweeps')).rows[0]?.n;

describe('a webhook while Redis is unavailable', () => {
  it('Redis hangs: answered 200 within a second; the sync reaches the Agent Engine once Redis answers', async () => {
    const daemon = await daemonOnPrivateRedis();
    redis!.kill('SIGSTOP');
    const answer = await send(daemon.url, 'cus_hang', 'Hung Redis');
    expect(answer).toMatchObject({ status: 200, body: { status: 'applied' } });
    expect(answer.ms).toBeLessThan(2_000);
    const { rows } = await h!.database.pool.query(
      `select name from customers where id = 'cus_hang'`,
    );
    expect(rows).toEqual([{ name: 'Hung Redis' }]);

    redis!.kill('SIGCONT');
    const made = await waitFor(() => h!.sim.store.findByName('Hung Redis'), {
      timeoutMs: 20_000,
      what: 'the workspace',
    });
    expect(made.status).toBe('active');
    expect(await sweeps()).toBe(0);
  });

  it('Redis down: answered 200 within a second; after Redis is back (empty) the sync is queued by itself', async () => {
    const daemon = await daemonOnPrivateRedis();
    await stopRedis();
    const answer = await send(daemon.url, 'cus_down', 'Down Redis');
    expect(answer).toMatchObject({ status: 200, body: { status: 'applied' } });
    expect(answer.ms).toBeLessThan(2_000);
    await startRedis();
    await scheduleAhead(h!.prefix);
    const made = await waitFor(() => h!.sim.store.findByName('Down Redis'), {
      timeoutMs: 20_000,
      what: 'the workspace',
    });
    expect(made.status).toBe('active');
    expect(await sweeps()).toBe(0);
    // The event was applied once, and is marked queued by whoever queued it.
    const recorded = await h!.database.pool.query(`select result from webhook_events`);
    expect(recorded.rows).toEqual([{ result: 'applied' }]);
    await waitFor(
      async () =>
        (
          await h!.database.pool.query(
            `select 1 from webhook_events where event_id = 'msg_cus_down' and queued_at is not null`,
          )
        ).rowCount === 1,
      { timeoutMs: 5_000, what: 'the event marked queued' },
    );
  });
});
