/**
 * Issue 24 §6: a name chosen by an outsider (a buyer at checkout, through a webhook) does not
 * claim an existing workspace. A workspace that a complete listing reported as an orphan is
 * adopted only by a person (`adopt`, the console), never because a new customer took its name,
 * whatever brought that customer (a webhook, a direct write, a later sweep): the sync fails
 * visibly as a name conflict, known from the orphan report without a call. The first sweep over
 * an organization, before any orphan was reported, still adopts by name.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { explainCustomer } from '../../src/ops/explain.js';
import { planSweep } from '../../src/ops/plan.js';
import { getStatus } from '../../src/ops/status.js';
import { lastSyncOf } from '../../src/sql/subjects.js';
import { signStandardWebhooks } from '../support/webhookSigners.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';
import { cli } from '../support/cli.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function created(url: string, id: string, name: string) {
  const body = JSON.stringify({
    type: 'customer.created',
    timestamp: new Date().toISOString(),
    data: { id, name, status: 'active' },
  });
  const headers = signStandardWebhooks(SECRET, body, { timestamp: Math.floor(Date.now() / 1000) });
  const answer = await request(`${url}/webhooks/billing`, { method: 'POST', headers, body });
  expect(answer.statusCode).toBe(200);
  await answer.body.dump();
}

const linkOf = async (harness: Harness, customerId: string) =>
  (
    await harness.database.pool.query<{ workspace_id: string }>(
      'select workspace_id from customer_links where customer_id = $1',
      [customerId],
    )
  ).rows[0]?.workspace_id ?? null;

describe('a reported orphan and a new customer of its name', () => {
  it('is not adopted by a webhook, a direct write or a later sweep; `adopt` links it', async () => {
    h = await startHarness({ env: { BILLING_WEBHOOK_SECRET: SECRET } });
    // The first sweep adopts by name, as always: no orphan had been reported yet.
    const had = h.sim.store.create('Had Before');
    const left = h.sim.store.create('Left Alone');
    const other = h.sim.store.create('Someone Else');
    await h.customers([{ id: 'cus_had', name: 'Had Before' }]);
    const daemon = await h.startDaemon();
    const app = daemon.app;
    await sweepAndWait(app);
    expect(await linkOf(h, 'cus_had')).toBe(had.id);
    expect((await getStatus(app)).orphans.map((o) => o.workspaceId).sort()).toEqual(
      [left.id, other.id].sort(),
    );

    // A buyer names their company like an orphan, at checkout (a webhook)...
    await created(daemon.url, 'cus_buyer', 'Left Alone');
    // ...and another row written straight to the table.
    await h.database.pool.query(
      `insert into customers (id, name, status) values ('cus_direct', 'Someone Else', 'active')`,
    );
    for (const id of ['cus_buyer', 'cus_direct']) {
      const last = await waitFor(
        async () => {
          const sync = await lastSyncOf(app.pool, id);
          return sync?.outcome === 'failed' ? sync : undefined;
        },
        { timeoutMs: 10_000, what: `${id}'s sync failing visibly` },
      );
      expect(last.reason, id).toMatch(/reported as an orphan.*adopt/);
      expect(await linkOf(h, id), id).toBeNull();
    }
    // explain and plan say so, without a change.
    const explained = await explainCustomer(app, 'cus_buyer');
    expect(explained.wouldDo.changes).toEqual([]);
    expect(explained.wouldDo.conflict?.reason).toMatch(/reported as an orphan.*adopt cus_buyer/);
    const plan = await planSweep(app);
    expect(plan.changes.filter((c) => c.action === 'adopt')).toEqual([]);
    expect(plan.conflicts.map((c) => c.customerId).sort()).toEqual(['cus_buyer', 'cus_direct']);

    // A later sweep does not adopt them either: they stay orphans, untouched.
    await sweepAndWait(app);
    await waitForIdle(app);
    expect(await linkOf(h, 'cus_buyer')).toBeNull();
    expect(await linkOf(h, 'cus_direct')).toBeNull();
    expect((await getStatus(app)).orphans).toHaveLength(2);
    expect(h.sim.store.get(left.id)?.status).toBe('active');

    // A person adopts: by name, and by id.
    const byName = await cli(h.env, ['adopt', 'cus_buyer']);
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.stdout).toContain(left.id);
    const byId = await cli(h.env, ['adopt', 'cus_direct', other.id]);
    expect(byId.code, byId.stderr).toBe(0);
    expect(await linkOf(h, 'cus_buyer')).toBe(left.id);
    expect(await linkOf(h, 'cus_direct')).toBe(other.id);
    expect((await getStatus(app)).orphans).toEqual([]);
    await waitForIdle(app);
    expect((await explainCustomer(app, 'cus_buyer')).wouldDo).toEqual({
      changes: [],
      conflict: null,
    });
    expect((await lastSyncOf(app.pool, 'cus_buyer'))?.outcome).toBe('ok');
  });

  it('adopt refuses an unknown customer, a linked one, and a workspace linked to another (exit 2)', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'cus_a', name: 'Alpha' },
      { id: 'cus_b', name: 'Bravo' },
    ]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const alpha = h.sim.store.findByName('Alpha')!;
    // Written quietly: its own sync would otherwise create its workspace first.
    const client = await h.database.pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local customer_sync.quiet = 'on'`);
      await client.query(`insert into customers (id, name) values ('cus_c', 'Charlie')`);
      await client.query('commit');
    } finally {
      client.release();
    }
    const cases: [string[], RegExp][] = [
      [['adopt', 'cus_ghost'], /no customer with id "cus_ghost"/],
      [['adopt', 'cus_a'], /already linked to workspace/],
      [['adopt', 'cus_c', alpha.id], /is linked to customer cus_a/],
      [['adopt', 'cus_c'], /no workspace named "Charlie"/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(h.env, args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    expect(await linkOf(h, 'cus_a')).toBe(alpha.id);
  });
});

describe("the console's adopt button", () => {
  const TOKEN = 'orphan-adoption-token-5c2e';
  const auth = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`;

  it('adopts the reported orphan of the customer page, with the form token only', async () => {
    h = await startHarness({ env: { DASHBOARD_TOKEN: TOKEN } });
    const orphan = h.sim.store.create('Picked At Checkout');
    // As a sweep's complete listing reported it.
    await h.database.pool.query(
      `insert into orphans (workspace_id, name, status, sweep_id, seen_at)
       values ($1, 'Picked At Checkout', 'active', 'an-earlier-sweep', now())`,
      [orphan.id],
    );
    // A receiver: it serves the console and runs no sync.
    const { url } = await h.startDaemon({}, { WORKER_CONCURRENCY: '0' });
    await h.customers([{ id: 'cus_p', name: 'Picked At Checkout' }]);

    const page = await request(`${url}/console/customers/cus_p`, {
      headers: { authorization: auth },
    });
    const text = await page.body.text();
    expect(text).toMatch(/reported as an orphan/);
    expect(text).toContain(`name="workspaceId" value="${orphan.id}"`);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const token = /name="_csrf"\s+value="([^"]+)"/.exec(text)?.[1] ?? '';
    const post = async (form: Record<string, string>) => {
      const answer = await request(`${url}/console/customers/cus_p/adopt`, {
        method: 'POST',
        headers: {
          authorization: auth,
          'content-type': 'application/x-www-form-urlencoded',
          cookie,
        },
        body: new URLSearchParams(form).toString(),
      });
      const body = await answer.body.text();
      return { status: answer.statusCode, location: answer.headers.location, body };
    };
    expect((await post({ workspaceId: orphan.id })).status).toBe(403);
    expect(await linkOf(h, 'cus_p')).toBeNull();

    const done = await post({ workspaceId: orphan.id, _csrf: token });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/console/customers/cus_p?adopted=1');
    expect(await linkOf(h, 'cus_p')).toBe(orphan.id);
    const { rows } = await h.database.pool.query(
      `select trigger, action, outcome, message from audit where customer_id = 'cus_p'`,
    );
    expect(rows).toEqual([
      {
        trigger: 'adopt',
        action: 'adopt',
        outcome: 'ok',
        message: 'adopted by a person (console user "ops")',
      },
    ]);
    // Once linked, a second adoption is refused on the page, saying why.
    const again = await post({ workspaceId: orphan.id, _csrf: token });
    expect(again.status).toBe(409);
    expect(again.body).toMatch(/already linked to workspace/);
  });
});
