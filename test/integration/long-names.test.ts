/**
 * A workspace name of any length the API allows cannot make a sweep fail: names of 3 KB and
 * 10 KB, in `customers` (a direct write) and in the listing (an existing workspace to adopt, an
 * orphan), go through a sweep and its syncs. Random text, so Postgres cannot compress it under
 * a btree's ~2,700-byte limit.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { sweepProgress } from '../../src/sql/sweepProgress.js';
import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const randomName = (chars: number) =>
  randomBytes(Math.ceil((chars * 3) / 4))
    .toString('base64')
    .slice(0, chars);

describe('long names', () => {
  it('a sweep with 3 KB and 10 KB names plans, links and adopts them', async () => {
    h = await startHarness();
    const threeKb = randomName(3 * 1024);
    const tenKb = randomName(10 * 1024);
    const adopted = randomName(10 * 1024);
    const orphan = randomName(3 * 1024);
    const existing = h.sim.store.create(adopted);
    h.sim.store.create(orphan);
    await h.customers([
      { id: 'c3k', name: threeKb },
      { id: 'c10k', name: tenKb },
      { id: 'cadopt', name: adopted },
    ]);
    const daemon = await h.startDaemon();
    const sweepId = randomUUID();
    await daemon.app.queues.sweep.add('sweep', { trigger: 'manual', sweepId }, { jobId: sweepId });
    const progress = await waitFor(
      async () => {
        const p = await sweepProgress(daemon.app.pool, sweepId);
        return p.sweep?.finishedAt && p.ended >= p.queued ? p : undefined;
      },
      { timeoutMs: 60_000, what: 'the sweep and its syncs' },
    );
    expect(progress.sweep?.outcome).toBe('ok');
    const { rows } = await h.database.pool.query<{ customer_id: string; workspace_id: string }>(
      'select customer_id, workspace_id from customer_links order by customer_id',
    );
    expect(rows.map((r) => r.customer_id)).toEqual(['c10k', 'c3k', 'cadopt']);
    expect(rows.find((r) => r.customer_id === 'cadopt')?.workspace_id).toBe(existing.id);
    expect(h.sim.store.findByName(threeKb)).toBeDefined();
    expect(h.sim.store.findByName(tenKb)).toBeDefined();
    const orphans = await h.database.pool.query<{ name: string }>('select name from orphans');
    expect(orphans.rows.map((r) => r.name)).toEqual([orphan]);
  });
});
