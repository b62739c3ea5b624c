/**
 * Postgres restarted under a running daemon: a private Postgres is stopped (fast shutdown: every
 * session ended) and started again on the same port. The daemon reconnects without a restart,
 * `/readyz` goes 503 then 200, a sync queued during the outage is not lost (nor its attempts
 * spent), and a direct write after the restart still reaches a sync (the change listener
 * reconnected).
 */
import pg from 'pg';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import type { AgentEngine } from '../../src/agent-engine/types.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { customerSubject } from '../../src/core/subject.js';
import { runMigrations } from '../../src/db/migrate.js';
import { syncSubject } from '../../src/sync/syncSubject.js';
import { type Harness, startHarness } from '../support/harness.js';
import { createPrivatePostgres, type PrivatePostgres } from '../support/privatePostgres.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
let server: PrivatePostgres | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await server?.destroy();
  server = undefined;
});

async function ready(url: string): Promise<number> {
  const answer = await request(`${url}/readyz`);
  await answer.body.dump();
  return answer.statusCode;
}

/** One statement on a connection of its own (the test's, not the daemon's). */
async function sql(url: string, text: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text, params);
  } finally {
    await client.end();
  }
}

describe('Postgres restarted under a running daemon', () => {
  it('reconnects by itself: /readyz 503 then 200, nothing queued lost, direct writes still heard', async () => {
    server = await createPrivatePostgres();
    await runMigrations(server.url);
    // Two attempts 20 ms apart: an outage longer than that must not use them up.
    h = await startHarness({ env: { SYNC_ATTEMPTS: '2', SYNC_BACKOFF: '20ms' } });
    const daemon = await h.startDaemon({}, { DATABASE_URL: server.url });
    const url = server.url;
    expect(await ready(daemon.url)).toBe(200);
    await sql(url, `insert into customers (id, name) values ('c1', 'One')`);
    await waitFor(() => h!.sim.store.findByName('One'), { what: 'a direct write synced' });
    // A customer whose sync is queued only during the outage (no trigger fires for this write).
    await sql(
      url,
      `begin; set local session_replication_role = replica;
       insert into customers (id, name) values ('c2', 'Two'); commit;`,
    );

    await server.stop();
    await waitFor(async () => (await ready(daemon.url)) === 503, {
      timeoutMs: 15_000,
      what: '/readyz 503 while Postgres is down',
    });
    await daemon.app.syncQueue.enqueue(['c2'], 'enqueue');
    // Tried (at least) twice while Postgres is down: as many times as it has attempts.
    await waitFor(() => h!.logs.filter((l) => l.includes('Postgres unreachable')).length >= 2, {
      timeoutMs: 15_000,
      what: 'the sync tried twice during the outage',
    });
    expect((await daemon.app.queues.sync.getJobCounts('failed')).failed).toBe(0);

    await server.start();
    await waitFor(async () => (await ready(daemon.url)) === 200, {
      timeoutMs: 20_000,
      what: '/readyz 200 after the restart',
    });
    await waitFor(() => h!.sim.store.findByName('Two'), {
      timeoutMs: 30_000,
      what: 'the sync queued during the outage',
    });
    // The change listener is back: a direct write after the restart is synced without a sweep.
    await waitFor(
      async () => {
        await sql(
          url,
          `insert into customers (id, name) values ('c3', 'Three') on conflict do nothing`,
        );
        return h!.sim.store.findByName('Three');
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'a direct write after the restart synced' },
    );
    const { rows } = await daemon.app.pool.query<{ n: number }>(
      `select count(*)::int as n from customer_links`,
    );
    expect(rows[0]?.n).toBe(3);
    expect(h.logs.join('')).not.toMatch(/"level":60/);
  });

  it('links a workspace minted just before Postgres went away, even renamed meanwhile, once it is back', async () => {
    server = await createPrivatePostgres();
    await runMigrations(server.url);
    h = await startHarness();
    const pg = server;
    const sim = h.sim;
    await sql(pg.url, `insert into customers (id, name) values ('c1', 'Minted')`);
    const app = createApp(loadConfig({ ...h.env, DATABASE_URL: pg.url }), { logger: h.logger });
    try {
      const deps = app.syncDeps();
      // The exact moment: the mint has answered, and Postgres goes away before the link is
      // written; during the outage the new workspace is renamed remotely, so minting by name
      // again would make a second one. Postgres is back a second later.
      let back: Promise<void> | undefined;
      const engine: AgentEngine = {
        ...deps.engine,
        createWorkspace: async (name, options) => {
          const ws = await deps.engine.createWorkspace(name, options);
          await pg.stop();
          sim.store.rename(ws.id, `${name} (renamed remotely)`);
          back = new Promise((r) => setTimeout(r, 1_000)).then(() => pg.start());
          return ws;
        },
      };
      const run = (with_: AgentEngine) =>
        syncSubject(
          { ...deps, engine: with_ },
          {
            subject: customerSubject('c1'),
            trigger: 'enqueue',
            jobId: null,
            attempt: 1,
            logger: h!.logger,
          },
        );
      const first = await run(engine).catch((error: unknown) => error);
      await back;
      // A sync that lost the id (before) threw here, and its retry minted a second workspace.
      if (first instanceof Error) await run(deps.engine);
      const live = sim.store.list().filter((w) => w.name !== 'default');
      expect(live.map((w) => w.name)).toEqual(['Minted (renamed remotely)']);
      const { rows } = await app.pool.query<{ workspace_id: string }>(
        `select workspace_id from customer_links where customer_id = 'c1'`,
      );
      expect(rows.map((r) => r.workspace_id)).toEqual([live[0]?.id]);
      expect(first).toEqual({ done: ['create'], held: [] });
    } finally {
      await app.close();
    }
  });
});
