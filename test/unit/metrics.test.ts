/** The metrics registry: its own (not the global one), and each adapter counts what it should. */
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { createMetrics } from '../../src/metrics.js';

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
});
