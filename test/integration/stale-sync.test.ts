/**
 * A sync that stopped in the middle (a SIGSTOPped daemon, a stalled event loop) loses its job's
 * lock, and another daemon runs the customer's sync meanwhile. When the first one wakes, its
 * decision is stale: it must not make the call it had decided on. Found by the chaos run: a stale
 * re-creation minted a second workspace and moved the customer's link to it, leaving the one
 * the other daemon had linked (renamed remotely meanwhile) linked to nobody.
 *
 * The pause is the one fault made at an exact moment: the stale sync's engine waits, right before
 * the mutating call, until the test lets it go.
 */
import { randomUUID } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import type { AgentEngine } from '../../src/agent-engine/types.js';
import { customerSubject } from '../../src/core/subject.js';
import { SupersededError } from '../../src/lib/errors.js';
import { removeLink, storeLink } from '../../src/sql/links.js';
import { claimSubject } from '../../src/sql/syncClaims.js';
import { syncSubject } from '../../src/sync/syncSubject.js';
import type { SyncDeps } from '../../src/sync/syncTypes.js';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Pause {
  /** Resolves when the paused call is reached. */
  readonly reached: Promise<void>;
  /** Lets the paused call go on. */
  release(): void;
}

/** The engine, paused right before its first call of `method`. */
function pausedBefore(
  engine: AgentEngine,
  method: 'createWorkspace' | 'deleteWorkspace' | 'updateWorkspace',
): { engine: AgentEngine; pause: Pause } {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const released = new Promise<void>((r) => (release = r));
  const wrapped = {
    ...engine,
    [method]: async (...args: unknown[]) => {
      reach();
      await released;
      return (engine[method] as (...a: unknown[]) => Promise<unknown>)(...args);
    },
  } as AgentEngine;
  return { engine: wrapped, pause: { reached, release } };
}

/** Destructive changes of one customer in a fleet of one are admitted, not held. */
const GATE_OPEN = { MAX_DESTRUCTIVE_PER_SWEEP: '10', MAX_DESTRUCTIVE_SHARE: '100%' };

/** Waits for the pause, failing at once if the sync ends without reaching it. */
async function reachedOrEnded(pause: Pause, run: Promise<string>): Promise<void> {
  const ended = await Promise.race([pause.reached.then(() => null), run]);
  if (ended !== null) throw new Error(`the sync ended before its paused call: ${ended}`);
}

function syncOf(harness: Harness, deps: SyncDeps, customerId: string) {
  return (engine: AgentEngine = deps.engine) =>
    syncSubject(
      { ...deps, engine },
      {
        subject: customerSubject(customerId),
        trigger: 'enqueue',
        jobId: null,
        attempt: 1,
        logger: harness.logger,
      },
    );
}

const liveIds = (harness: Harness) =>
  harness.sim.store
    .list()
    .filter((w) => w.name !== 'default')
    .map((w) => w.id);

async function linkOf(harness: Harness, customerId: string): Promise<string | undefined> {
  const { rows } = await harness.database.pool.query<{ workspace_id: string }>(
    'select workspace_id from customer_links where customer_id = $1',
    [customerId],
  );
  return rows[0]?.workspace_id;
}

describe('a sync that wakes up after another sync of its customer', () => {
  it('mints nothing: the workspace the other sync re-created and linked stays linked', async () => {
    h = await startHarness({ env: GATE_OPEN });
    await h.customers([{ id: 'c1', name: 'Acme' }]);
    const app = h.app();
    const sync = syncOf(h, app.syncDeps(), 'c1');
    await sync();
    const first = h.sim.store.findByName('Acme')!;
    // Deleted behind our back, and a complete listing has said so.
    h.sim.store.delete(first.id);
    await h.database.pool.query(
      `update customer_links set workspace_status = 'missing' where customer_id = 'c1'`,
    );

    // One daemon decides to re-create it, and stops right before the mint.
    const { engine, pause } = pausedBefore(app.syncDeps().engine, 'createWorkspace');
    const stale = sync(engine).then(
      (result) => (result.superseded ? 'superseded' : 'finished'),
      (error: unknown) => String(error),
    );
    await reachedOrEnded(pause, stale);
    // Another daemon takes the customer over: re-creates and links it; then it is renamed remotely.
    await sync();
    const second = h.sim.store.findByName('Acme')!;
    expect(second.id).not.toBe(first.id);
    h.sim.store.rename(second.id, 'Acme (renamed remotely)');
    pause.release();

    expect(await stale).toBe('superseded');
    expect(liveIds(h)).toEqual([second.id]);
    expect(await linkOf(h, 'c1')).toBe(second.id);
    // Its audit row says the re-creation was not carried out, and why.
    const { rows } = await h.database.pool.query<{ outcome: string; message: string }>(
      `select outcome, message from audit where customer_id = 'c1' and action = 'create' order by id`,
    );
    // (the first create, the stale one's, started before the other's, the other's)
    expect(rows.map((r) => r.outcome)).toEqual(['ok', 'skipped', 'ok']);
    expect(rows[1]?.message).toMatch(/^not carried out: a newer sync of c1 started/);
  });

  it('deletes nothing when the customer came back meanwhile', async () => {
    h = await startHarness({ env: { ...GATE_OPEN, DELETE_GRACE: '1h' } });
    await h.customers([{ id: 'c1', name: 'Leaving' }]);
    const app = h.app();
    const sync = syncOf(h, app.syncDeps(), 'c1');
    await sync();
    const ws = h.sim.store.findByName('Leaving')!;
    await h.database.pool.query(`update customers set status = 'deleted' where id = 'c1'`);
    // Deactivated first; then the grace has passed.
    await sync();
    expect(h.sim.store.get(ws.id)?.status).toBe('inactive');
    await h.database.pool.query(
      `update customer_links set delete_due_at = now() where customer_id = 'c1'`,
    );

    const { engine, pause } = pausedBefore(app.syncDeps().engine, 'deleteWorkspace');
    const stale = sync(engine).then(
      (result) => (result.superseded ? 'superseded' : 'finished'),
      (error: unknown) => String(error),
    );
    await reachedOrEnded(pause, stale);
    // The customer is back before the stale sync wakes, and another sync has seen it.
    await h.database.pool.query(`update customers set status = 'active' where id = 'c1'`);
    await sync();
    pause.release();
    expect(await stale).toBe('superseded');

    // The other sync activated it again; the stale delete must not have gone out.
    expect(h.sim.store.get(ws.id)).toMatchObject({ name: 'Leaving', status: 'active' });
    expect(await linkOf(h, 'c1')).toBe(ws.id);
  });

  it('moves or drops no link: a stale claim is refused, and a link is dropped only by its workspace', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Linked' }]);
    const pool = h.database.pool;
    const [linked, other] = [randomUUID(), randomUUID()];
    const older = await claimSubject(pool, 'c1');
    const newer = await claimSubject(pool, 'c1');
    expect(newer.generation).toBeGreaterThan(older.generation);
    await storeLink(pool, newer, 'c1', linked, 'Linked', 'active');

    await expect(storeLink(pool, older, 'c1', other, 'Linked', 'active')).rejects.toBeInstanceOf(
      SupersededError,
    );
    await expect(removeLink(pool, older, 'c1', linked)).rejects.toBeInstanceOf(SupersededError);
    // The newest claim, but about another workspace than the one linked now: nothing to drop.
    await removeLink(pool, newer, 'c1', other);
    expect(await linkOf(h, 'c1')).toBe(linked);
    await removeLink(pool, newer, 'c1', linked);
    expect(await linkOf(h, 'c1')).toBeUndefined();
  });
});
