/**
 * What the alerts, the dashboard and the autoscaler read is what a running daemon exports: every
 * metric name in their PromQL is in a live daemon's `/metrics`. And the gauges read at scrape time
 * say what Postgres and Redis hold: jobs waiting per lane, the last sweeps, the held changes, the
 * fleet by state, readiness and the settings.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { type Harness, startHarness } from '../support/harness.js';
import {
  dashboardQueries,
  exportedNames,
  manifestQueries,
  metricNames,
  ruleQueries,
  type ShippedQuery,
} from '../support/promql.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Names Prometheus writes itself, never a target. */
const PROMETHEUS_OWN = new Set(['up']);

async function scrape(url: string): Promise<string> {
  const res = await request(`${url}/metrics`);
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('metric names in the shipped PromQL', () => {
  it('are found by the extractor, and only metric names', () => {
    expect([
      ...metricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(customer_sync_agent_engine_call_duration_seconds_bucket{job=~"$job",route!="x"}[$__rate_interval]))) > 1e9',
      ),
    ]).toEqual(['customer_sync_agent_engine_call_duration_seconds_bucket']);
    expect([
      ...metricNames(
        'time() - max(a_b{outcome=~"ok|held"}) > 3 * max(c) or up{job="x"} == 0 and on (instance) d',
      ),
    ]).toEqual(['a_b', 'c', 'up', 'd']);
  });

  it('are all exported by a running daemon', async () => {
    h = await startHarness();
    const daemon = await h.startDaemon();
    const exported = exportedNames(await scrape(daemon.url));
    const queries: ShippedQuery[] = [...ruleQueries(), ...dashboardQueries(), ...manifestQueries()];
    // Each source contributes (an empty list would pass vacuously).
    expect(ruleQueries().length).toBeGreaterThanOrEqual(8);
    expect(dashboardQueries().length).toBeGreaterThanOrEqual(30);
    expect(manifestQueries().length).toBeGreaterThanOrEqual(1);

    const missing: string[] = [];
    const used = new Set<string>();
    for (const { where, expr } of queries) {
      for (const name of metricNames(expr)) {
        used.add(name);
        if (!exported.has(name) && !PROMETHEUS_OWN.has(name)) missing.push(`${name} (${where})`);
      }
    }
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(25);
    for (const name of [
      'customer_sync_sync_jobs_waiting',
      'customer_sync_sweep_duration_seconds_bucket',
      'customer_sync_last_sweep_timestamp_seconds',
      'customer_sync_ready',
    ])
      expect(used).toContain(name);
  });
});

describe('the gauges read at scrape time', () => {
  it('report jobs waiting per lane, the last sweeps, held changes, the fleet, readiness and settings', async () => {
    h = await startHarness({ env: { SWEEP_EVERY: '20m', API_RATE_LIMIT: '600/m' } });
    await h.customers([
      { id: 'cus_1', name: 'One' },
      { id: 'cus_2', name: 'Two' },
      { id: 'cus_3', name: 'Three' },
      { id: 'cus_4', name: 'Four' },
      { id: 'cus_5', name: 'Five' },
    ]);
    const pool = h.database.pool;
    await pool.query(
      `insert into sweeps (id, trigger, started_at, finished_at, outcome) values
         ('s-ok', 'schedule', '2026-12-01T10:00:00Z', '2026-12-01T10:00:30Z', 'ok'),
         ('s-ok-older', 'schedule', '2026-12-01T09:00:00Z', '2026-12-01T09:00:30Z', 'ok'),
         ('s-failed', 'manual', '2026-12-01T11:00:00Z', '2026-12-01T11:00:05Z', 'failed')`,
    );
    await pool.query(
      `insert into holds (customer_id, action, state, created_at)
       values ('cus_5', 'delete', 'held', now() - interval '2 hours'),
              ('cus_4', 'deactivate', 'held', now() - interval '10 minutes'),
              ('cus_3', 'delete', 'done', now() - interval '5 hours')`,
    );
    // A receiver: no worker takes the jobs, so they stay waiting in their lanes.
    const daemon = await h.startDaemon({}, { WORKER_CONCURRENCY: '0' });
    await h.app().syncQueue.enqueue(['cus_1', 'cus_2'], 'webhook');
    await h.app().syncQueue.enqueue(['cus_3', 'cus_4', 'cus_5'], 'sweep');

    const text = await scrape(daemon.url);
    expect(sample(text, 'customer_sync_sync_jobs_waiting{lane="person"}')).toBe(2);
    expect(sample(text, 'customer_sync_sync_jobs_waiting{lane="backfill"}')).toBe(3);
    expect(sample(text, 'customer_sync_ready')).toBe(1);
    expect(sample(text, 'customer_sync_last_sweep_timestamp_seconds{outcome="ok"}')).toBe(
      Date.parse('2026-12-01T10:00:30Z') / 1000,
    );
    expect(sample(text, 'customer_sync_last_sweep_timestamp_seconds{outcome="failed"}')).toBe(
      Date.parse('2026-12-01T11:00:05Z') / 1000,
    );
    expect(sample(text, 'customer_sync_last_sweep_timestamp_seconds{outcome="held"}')).toBe(0);
    expect(sample(text, 'customer_sync_changes_awaiting_approval')).toBe(2);
    const age = sample(text, 'customer_sync_oldest_held_change_age_seconds') ?? 0;
    expect(age).toBeGreaterThanOrEqual(7200);
    expect(age).toBeLessThan(7200 + 120);
    expect(sample(text, 'customer_sync_webhook_events_unqueued')).toBe(0);
    expect(sample(text, 'customer_sync_oldest_unqueued_webhook_age_seconds')).toBe(0);
    // Never synced, something to do: pending; the two with an open hold: held.
    expect(sample(text, 'customer_sync_fleet_customers{state="pending"}')).toBe(3);
    expect(sample(text, 'customer_sync_fleet_customers{state="held"}')).toBe(2);
    expect(sample(text, 'customer_sync_fleet_customers{state="in_step"}')).toBe(0);
    expect(sample(text, 'customer_sync_orphan_workspaces')).toBe(0);
    expect(sample(text, 'customer_sync_sweep_interval_seconds')).toBe(1200);
    expect(sample(text, 'customer_sync_api_rate_limit_per_second')).toBe(10);
    expect(sample(text, 'customer_sync_worker_concurrency')).toBe(0);
  });

  it('leave a gauge without a value (NaN, or no series) when its source fails, and the scrape still answers', async () => {
    h = await startHarness();
    const daemon = await h.startDaemon();
    expect(sample(await scrape(daemon.url), 'customer_sync_changes_awaiting_approval')).toBe(0);
    await h.database.pool.query(`alter table holds rename to holds_away`);
    const text = await scrape(daemon.url);
    expect(text).toContain('# TYPE customer_sync_changes_awaiting_approval gauge');
    expect(sample(text, 'customer_sync_changes_awaiting_approval')).toBeNaN();
    expect(
      sample(text, 'customer_sync_last_sweep_timestamp_seconds{outcome="ok"}'),
    ).toBeUndefined();
    expect(sample(text, 'customer_sync_ready')).toBe(1);
    await h.database.pool.query(`alter table holds_away rename to holds`);
    expect(sample(await scrape(daemon.url), 'customer_sync_changes_awaiting_approval')).toBe(0);
  });
});
