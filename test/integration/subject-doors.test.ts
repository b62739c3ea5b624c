/**
 * Issue 12: a job's subject is typed, and a customer id that would read as an orphan's key
 * (`workspace:<id>`) is refused at every door: webhooks, the CLI, the table's change
 * notifications, and the sweep.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { parseSubject, subjectKey } from '../../src/core/subject.js';
import { enqueueCustomers } from '../../src/ops/enqueue.js';
import { newBillingSecret, signStandardWebhooks } from '../support/webhookSigners.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('typed subjects', () => {
  it('encode and decode one way round', () => {
    for (const s of [
      { kind: 'customer', customerId: 'cus_1' },
      { kind: 'orphan', workspaceId: '8c1f0e9a-0000-4000-8000-000000000001' },
    ] as const) {
      expect(parseSubject(subjectKey(s))).toEqual(s);
    }
  });

  it('a customer id that reads as an orphan key never syncs that orphan', async () => {
    const secret = newBillingSecret();
    h = await startHarness({ env: { ORPHANS: 'delete', BILLING_WEBHOOK_SECRET: secret } });
    const orphan = h.sim.store.create('Not Yours');
    const reserved = `workspace:${orphan.id}`;
    const daemon = await h.startDaemon();

    // The webhook door.
    const body = JSON.stringify({
      type: 'customer.created',
      timestamp: new Date().toISOString(),
      data: { id: reserved, name: 'Sneaky', status: 'deleted' },
    });
    const answer = await fetch(`${daemon.url}/webhooks/billing`, {
      method: 'POST',
      headers: signStandardWebhooks(secret, body, { timestamp: Math.floor(Date.now() / 1000) }),
      body,
    });
    expect(answer.status).toBe(422);
    // The table door (a direct write), the CLI door and the sweep.
    await h.database.pool.query(
      `insert into customers (id, name, status) values ($1, 'Sneaky', 'active')`,
      [reserved],
    );
    const queued = await enqueueCustomers(daemon.app, [reserved]);
    expect(queued).toEqual({ queued: 0, unknown: [reserved] });
    const swept = await sweepAndWait(daemon.app);
    await waitForIdle(daemon.app);
    expect(swept.sweep?.counts.create ?? 0).toBe(0);
    expect(h.sim.store.findByName('Sneaky')).toBeUndefined();
    // ORPHANS=delete deletes the orphan as an orphan, through the gate, once: not as a customer.
    const { rows } = await h.database.pool.query<{ customer_id: string | null }>(
      `select customer_id from audit where workspace_id = $1`,
      [orphan.id],
    );
    expect(rows.every((r) => r.customer_id === null)).toBe(true);
  });
});
