/**
 * Once the mass-change limit has held a change, it stays tripped until a person has looked: a
 * destructive change from outside a sweep that comes after the window rolled (the late part of
 * the same mass change, whose syncs were slow, or the next one) waits with the rest, instead of
 * trickling through at the limit's rate per window. Approving (or the holds going stale) clears it.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { renderStatus } from '../../src/cli/commands/status.js';
import { approve } from '../../src/ops/approve.js';
import { getStatus } from '../../src/ops/status.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'limit-trip-console-token';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function heldCustomers(h: Harness): Promise<string[]> {
  const { rows } = await h.database.pool.query<{ customer_id: string }>(
    `select customer_id from holds where state = 'held' order by customer_id`,
  );
  return rows.map((r) => r.customer_id);
}

/** As if one `SWEEP_EVERY` had passed: every audit row an hour older (the window counts by `at`). */
async function rollTheWindow(h: Harness): Promise<void> {
  await h.database.pool.query(`update audit set at = at - interval '1 hour'`);
}

describe('the mass-change limit, once tripped', () => {
  it('holds a destructive change that comes after the window rolled, until a person approves', async () => {
    h = await startHarness({
      env: {
        MAX_DESTRUCTIVE_PER_SWEEP: '2',
        MAX_DESTRUCTIVE_SHARE: '1%',
        SWEEP_EVERY: '10m',
        DASHBOARD_TOKEN: TOKEN,
      },
    });
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    await h.customers(ids.map((id) => ({ id, name: `Trip ${id}` })));
    const daemon = await h.startDaemon();
    const overview = async () => {
      const answer = await request(`${daemon.url}/console`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return answer.body.text();
    };
    await sweepAndWait(daemon.app);
    const status = (id: string) => h!.sim.store.findByName(`Trip ${id}`)?.status;
    const pool = h.database.pool;

    // A mass deactivation by a direct write: the window's two go through, the rest are held.
    await pool.query(
      `update customers set status = 'inactive' where id in ('c1', 'c2', 'c3', 'c4')`,
    );
    await waitFor(async () => (await heldCustomers(h!)).length === 2, {
      what: 'two of the four held',
    });
    await waitForIdle(daemon.app);
    expect(ids.filter((id) => status(id) === 'inactive')).toHaveLength(2);

    // The window rolls; another deactivation comes from outside a sweep while those two wait.
    await rollTheWindow(h);
    await pool.query(`update customers set status = 'inactive' where id = 'c5'`);
    await waitFor(async () => (await heldCustomers(h!)).includes('c5'), { what: 'c5 held' });
    await waitForIdle(daemon.app);
    expect(status('c5')).toBe('active');
    const { rows } = await pool.query<{ reason: string }>(
      `select reason from holds where customer_id = 'c5'`,
    );
    expect(rows).toEqual([{ reason: 'limit' }]);
    // `status` says why: the limit is tripped.
    const tripped = await getStatus(daemon.app);
    expect(tripped.limitTripped).toBe(true);
    expect(renderStatus(tripped).join('\n')).toContain('MASS-CHANGE LIMIT TRIPPED');
    expect(await overview()).toContain('data-limit-tripped');

    // A person approves what was held: every one goes through, and the limit is no longer
    // tripped: the next deactivation, in a fresh window, goes through by itself.
    await approve(daemon.app, { kind: 'all' });
    await waitForIdle(daemon.app);
    expect(ids.filter((id) => status(id) === 'inactive')).toHaveLength(5);
    expect((await getStatus(daemon.app)).limitTripped).toBe(false);
    expect(await overview()).not.toContain('data-limit-tripped');
    await rollTheWindow(h);
    await pool.query(`update customers set status = 'inactive' where id = 'c6'`);
    await waitFor(() => status('c6') === 'inactive', { what: 'c6 deactivated' });
    expect(await heldCustomers(h)).toEqual([]);
  });
});
