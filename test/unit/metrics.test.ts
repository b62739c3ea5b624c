/** The metrics registry: its own (not the global one), and each adapter counts what it should. */
import { register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createMetrics, type DatabaseGauges, FLEET_REFRESH_MS } from '../../src/metrics.js';

const sample = async (text: Promise<string>, line: string) =>
  (await text).split('\n').find((l) => l.startsWith(`${line} `));

describe('createMetrics', () => {
  it('builds a fresh registry each time, with default process metrics, never the global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    expect(a.registry).not.toBe(b.registry);
    expect(a.registry).not.toBe(globalRegistry);
    a.recordWebhook('billing', 'applied');
    expect(
      await sample(b.render(), 'customer_sync_webhooks_total{source="billing",outcome="applied"}'),
    ).toBeUndefined();
    expect(await a.render()).toContain('process_cpu_user_seconds_total');
  });

  it('names every metric customer_sync_*', async () => {
    const names = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    const ours = names.filter((n) => !n.startsWith('process_') && !n.startsWith('nodejs_'));
    expect(ours.length).toBeGreaterThanOrEqual(11);
    for (const name of ours) expect(name).toMatch(/^customer_sync_/);
  });

  it('counts Agent Engine calls by route, method and status, with latency and token mints', async () => {
    const m = createMetrics();
    m.observer.onCall({
      route: 'GET /workspaces/{id}',
      method: 'GET',
      status: 200,
      durationMs: 120,
    });
    m.observer.onCall({
      route: 'GET /workspaces/{id}',
      method: 'GET',
      status: 'error',
      durationMs: 5,
    });
    m.observer.onTokenMint();
    const text = m.render();
    expect(
      await sample(
        text,
        'customer_sync_agent_engine_calls_total{route="GET /workspaces/{id}",method="GET",status="200"}',
      ),
    ).toMatch(/ 1$/);
    expect(
      await sample(
        text,
        'customer_sync_agent_engine_calls_total{route="GET /workspaces/{id}",method="GET",status="error"}',
      ),
    ).toMatch(/ 1$/);
    expect(
      await sample(
        text,
        'customer_sync_agent_engine_call_duration_seconds_count{route="GET /workspaces/{id}",method="GET"}',
      ),
    ).toMatch(/ 2$/);
    expect(await sample(text, 'customer_sync_token_mints_total')).toMatch(/ 1$/);
  });

  it('records a sweep: outcome, duration, planned changes by action, held changes', async () => {
    const m = createMetrics();
    m.recordSweep(
      {
        skipped: false,
        listingComplete: true,
        held: true,
        counts: { create: 3, delete: 30, held: 30, customers: 9 },
      },
      2500,
    );
    m.recordSweep({ skipped: false, listingComplete: false, held: false, counts: {} }, 100);
    const text = m.render();
    expect(await sample(text, 'customer_sync_sweeps_total{outcome="held"}')).toMatch(/ 1$/);
    expect(await sample(text, 'customer_sync_sweeps_total{outcome="incomplete"}')).toMatch(/ 1$/);
    expect(await sample(text, 'customer_sync_sweep_duration_seconds_sum{outcome="held"}')).toMatch(
      / 2\.5$/,
    );
    expect(
      await sample(text, 'customer_sync_sweep_changes_planned_total{action="create"}'),
    ).toMatch(/ 3$/);
    expect(
      await sample(text, 'customer_sync_sweep_changes_planned_total{action="delete"}'),
    ).toMatch(/ 30$/);
    expect(await sample(text, 'customer_sync_held_changes_total{source="sweep"}')).toMatch(/ 30$/);
  });

  it('counts syncs by action and outcome, and follows the breaker', async () => {
    const m = createMetrics();
    m.syncEvents.onSynced('cus_1', { done: ['create'], held: [] }, 10);
    m.syncEvents.onSynced('cus_2', { done: [], held: ['delete'] }, 10);
    m.syncEvents.onSynced('cus_3', { done: [], held: [] }, 10);
    m.syncEvents.onFailed('cus_4', 'permanent', 'name conflict');
    m.syncEvents.onBreaker('open');
    const text = m.render();
    expect(await sample(text, 'customer_sync_syncs_total{action="create",outcome="ok"}')).toMatch(
      / 1$/,
    );
    expect(await sample(text, 'customer_sync_syncs_total{action="delete",outcome="held"}')).toMatch(
      / 1$/,
    );
    expect(await sample(text, 'customer_sync_syncs_total{action="none",outcome="ok"}')).toMatch(
      / 1$/,
    );
    expect(
      await sample(text, 'customer_sync_syncs_total{action="unknown",outcome="failed_permanent"}'),
    ).toMatch(/ 1$/);
    expect(await sample(text, 'customer_sync_held_changes_total{source="sync"}')).toMatch(/ 1$/);
    expect(await sample(text, 'customer_sync_breaker_state')).toMatch(/ 1$/);
    m.syncEvents.onBreaker('closed');
    expect(await sample(m.render(), 'customer_sync_breaker_state')).toMatch(/ 0$/);
  });

  it('reads the queue depth from the source at each scrape, and survives a failing source', async () => {
    const m = createMetrics();
    expect(await m.render()).not.toContain('customer_sync_queue_depth{');
    let waiting = 4;
    m.setQueueDepthSource(async () => ({ waiting, active: 2 }));
    expect(await sample(m.render(), 'customer_sync_queue_depth{state="waiting"}')).toMatch(/ 4$/);
    waiting = 7;
    expect(await sample(m.render(), 'customer_sync_queue_depth{state="waiting"}')).toMatch(/ 7$/);
    m.setQueueDepthSource(async () => {
      throw new Error('redis down');
    });
    const text = await m.render();
    expect(text).toContain('customer_sync_webhooks_total');
    expect(text).not.toContain('customer_sync_queue_depth{');
  });

  it("counts a sweep's listing pages and times finished syncs by whether they changed anything", async () => {
    const m = createMetrics();
    m.recordSweep(
      { skipped: false, listingComplete: true, held: false, counts: { pages: 12 } },
      900,
    );
    m.syncEvents.onSynced('cus_1', { done: ['rename'], held: [] } as never, 120);
    m.syncEvents.onSynced('cus_2', { done: [], held: [] } as never, 3);
    const text = m.render();
    expect(await sample(text, 'customer_sync_sweep_pages_total')).toMatch(/ 12$/);
    expect(await sample(text, 'customer_sync_sync_duration_seconds_count{changed="true"}')).toMatch(
      / 1$/,
    );
    expect(
      await sample(text, 'customer_sync_sync_duration_seconds_bucket{le="0.005",changed="false"}'),
    ).toMatch(/ 1$/);
  });
});

describe('the scrape-time gauges', () => {
  afterEach(() => vi.useRealTimers());
  const db: DatabaseGauges = {
    lastSweepAt: { ok: 1700000000 },
    held: 2,
    oldestHoldAgeSeconds: 4000,
    webhooksUnqueued: 1,
    oldestUnqueuedWebhookAgeSeconds: 30,
  };

  it('read readiness, lanes and the database at each scrape, the database once per scrape', async () => {
    const m = createMetrics();
    let ready = true;
    let queries = 0;
    m.setScrapeSources({
      ready: async () => ready,
      lanes: async () => ({ person: 3, backfill: 40 }),
      database: async () => {
        queries += 1;
        return db;
      },
    });
    m.setSettings({ sweepEveryMs: 15 * 60_000, apiRatePerSecond: 10, workerConcurrency: 8 });
    const text = await m.render();
    expect(queries).toBe(1);
    expect(await sample(Promise.resolve(text), 'customer_sync_ready')).toMatch(/ 1$/);
    for (const [series, value] of [
      ['customer_sync_sync_jobs_waiting{lane="person"}', 3],
      ['customer_sync_sync_jobs_waiting{lane="backfill"}', 40],
      ['customer_sync_last_sweep_timestamp_seconds{outcome="ok"}', 1700000000],
      ['customer_sync_last_sweep_timestamp_seconds{outcome="held"}', 0],
      ['customer_sync_changes_awaiting_approval', 2],
      ['customer_sync_oldest_held_change_age_seconds', 4000],
      ['customer_sync_webhook_events_unqueued', 1],
      ['customer_sync_oldest_unqueued_webhook_age_seconds', 30],
      ['customer_sync_sweep_interval_seconds', 900],
      ['customer_sync_api_rate_limit_per_second', 10],
      ['customer_sync_worker_concurrency', 8],
    ] as const) {
      expect(await sample(Promise.resolve(text), String(series)), series).toMatch(
        new RegExp(` ${value}$`),
      );
    }
    ready = false;
    expect(await sample(m.render(), 'customer_sync_ready')).toMatch(/ 0$/);
    expect(queries).toBe(2);
  });

  it('show no value (NaN, or no series) while a source fails, never a stale one', async () => {
    const m = createMetrics();
    m.setScrapeSources({
      database: async () => {
        throw new Error('postgres down');
      },
      lanes: async () => {
        throw new Error('redis down');
      },
    });
    const text = m.render();
    expect(await sample(text, 'customer_sync_changes_awaiting_approval')).toMatch(/ nan$/i); // prom-client writes Nan; Prometheus reads it case-blind
    expect(await text).not.toContain('customer_sync_sync_jobs_waiting{');
    expect(await text).not.toContain('customer_sync_last_sweep_timestamp_seconds{');
  });

  it('read the fleet at most once a minute, answering scrapes meanwhile with the last counts', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const m = createMetrics();
    let reads = 0;
    m.setScrapeSources({
      fleet: async () => {
        reads += 1;
        return { inStep: 10 * reads, failing: 1, held: 0, pending: 2, orphans: 3 };
      },
    });
    expect(await sample(m.render(), 'customer_sync_fleet_customers{state="in_step"}')).toMatch(
      / 10$/,
    );
    vi.advanceTimersByTime(FLEET_REFRESH_MS - 1000);
    await m.render();
    expect(reads).toBe(1);
    vi.advanceTimersByTime(2000);
    // Stale: this scrape still answers at once with the last counts and starts a read.
    expect(await sample(m.render(), 'customer_sync_fleet_customers{state="in_step"}')).toMatch(
      / 10$/,
    );
    expect(reads).toBe(2);
    expect(await sample(m.render(), 'customer_sync_fleet_customers{state="in_step"}')).toMatch(
      / 20$/,
    );
    expect(await sample(m.render(), 'customer_sync_orphan_workspaces')).toMatch(/ 3$/);
  });

  it('count the region mismatches as seldom as the fleet, and say NaN while unknown', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const unset = createMetrics();
    expect(await sample(unset.render(), 'customer_sync_region_mismatches')).toMatch(/ Nan$/);
    const m = createMetrics();
    let reads = 0;
    m.setScrapeSources({
      regionMismatches: async () => {
        reads += 1;
        return 4;
      },
    });
    expect(await sample(m.render(), 'customer_sync_region_mismatches')).toMatch(/ 4$/);
    await m.render();
    expect(reads).toBe(1);
    vi.advanceTimersByTime(FLEET_REFRESH_MS + 1000);
    await m.render();
    expect(reads).toBe(2);
  });
});
