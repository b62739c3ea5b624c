/**
 * Prometheus metrics: one registry per process (never prom-client's global one, so tests and
 * several apps in one process do not collide), holding every metric customer-sync exposes. Other
 * modules only increment; the names, labels and buckets are decided here, once.
 */
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type LabelValues,
} from 'prom-client';

import type { CallObserver } from './agent-engine/types.js';
import { ACTIONS } from './core/types.js';
import type { Lane } from './sync/queues.js';
import type { SyncEvents } from './sync/worker.js';

const PREFIX = 'customer_sync_';

/** Where a webhook came from (the route's name). */
export type WebhookSource =
  'billing' | 'stripe' | 'paddle' | 'chargebee' | 'lago' | 'orb' | 'polar';

/** Why a webhook delivery was refused; each is a `rejected_<reason>` outcome. */
export type WebhookRejection =
  | 'not_configured' // 503: no secret for the route
  | 'too_large' // 413
  | 'signature' // 401: bad or missing signature, or timestamp outside ±5 min
  | 'not_json' // 400
  | 'future_timestamp' // 400: event time more than 5 min ahead of the signed time
  | 'invalid' // 422: JSON of the wrong shape
  | 'foreign_customer' // 422: a field the buyer writes names another customer than the vendor's id
  | 'bad_request' // 4xx from the HTTP layer itself (malformed request)
  | 'unavailable' // 503: Postgres unreachable, nothing acknowledged
  | 'error'; // 500: anything else; nothing acknowledged

/** What became of one webhook delivery. */
export type WebhookOutcome =
  'applied' | 'duplicate' | 'stale' | 'ignored' | `rejected_${WebhookRejection}`;

/** The part of a sweep's report the metrics read (structurally `SweepReport`). */
export interface SweptReport {
  readonly skipped: boolean;
  readonly listingComplete: boolean;
  readonly held: boolean;
  readonly counts: Readonly<Record<string, number>>;
  readonly error?: string;
}

/** Queue counts by BullMQ state, e.g. BullMQ's `queue.getJobCounts(...)`. */
export type QueueDepthSource = () => Promise<Record<string, number>>;

/** Sync jobs waiting for a worker, by lane (`wait` is the person lane, `prioritized` the backfills). */
export type LaneDepthSource = () => Promise<Record<Lane, number>>;

/** What the database says at scrape time, fleet-wide (the same on every daemon). */
export interface DatabaseGauges {
  /** Epoch seconds of the latest finished sweep, by outcome (ok, held, incomplete, failed). */
  readonly lastSweepAt: Readonly<Record<string, number>>;
  /** Destructive changes waiting for approval, and the age of the oldest (0: none). */
  readonly held: number;
  readonly oldestHoldAgeSeconds: number;
  /** Applied webhook events whose sync is still not queued after the delivery's own try. */
  readonly webhooksUnqueued: number;
  readonly oldestUnqueuedWebhookAgeSeconds: number;
}

/** Customers by sync state (`fleetCounts` in src/sql/fleet.ts), and orphan workspaces. */
export interface FleetGauges {
  readonly inStep: number;
  readonly failing: number;
  readonly held: number;
  readonly pending: number;
  readonly orphans: number;
}

/** Settings an alert or a dashboard compares with (exported as gauges, once). */
export interface MetricSettings {
  readonly sweepEveryMs: number;
  /** `API_RATE_LIMIT` as calls per second. */
  readonly apiRatePerSecond: number;
  readonly workerConcurrency: number;
}

/** Where the scrape-time gauges read from; the composition root sets them (all optional). */
export interface ScrapeSources {
  readonly ready?: () => Promise<boolean>;
  readonly lanes?: LaneDepthSource;
  readonly database?: () => Promise<DatabaseGauges>;
  readonly fleet?: () => Promise<FleetGauges>;
  /** Customers whose workspace lives in another region than their row wants (src/sql/regions.ts). */
  readonly regionMismatches?: () => Promise<number>;
}

/** The fleet's counts are a full pass over the customers: read at most this often per daemon. */
export const FLEET_REFRESH_MS = 60_000;

/** The actions a plan can contain; their counts are read from a sweep report's `counts`. */
const PLAN_ACTIONS = ACTIONS;

/** Every metric, typed, plus the adapters the other modules are handed. */
export interface Metrics {
  readonly registry: Registry;
  readonly sweeps: Counter<'outcome'>;
  readonly sweepDuration: Histogram<'outcome'>;
  readonly plannedChanges: Counter<'action'>;
  readonly heldChanges: Counter<'source'>;
  readonly syncs: Counter<'action' | 'outcome'>;
  readonly queueDepth: Gauge<'state'>;
  readonly apiCalls: Counter<'route' | 'method' | 'status'>;
  readonly apiLatency: Histogram<'route' | 'method'>;
  readonly tokenMints: Counter;
  readonly webhooks: Counter<'source' | 'outcome'>;
  readonly breakerState: Gauge;
  /** Seconds left of the shared 429 pause (0: none), read at scrape time. */
  readonly rateLimitPause: Gauge;
  /** Handed to the Agent Engine client (`CallObserver`). */
  readonly observer: Required<CallObserver>;
  /** Handed to the sync worker (`SyncEvents`). */
  readonly syncEvents: Required<SyncEvents>;
  /** Records one finished sweep: outcome, duration, planned changes by action, held changes. */
  recordSweep(report: SweptReport, ms: number): void;
  /** Counts one webhook delivery. */
  recordWebhook(source: WebhookSource, outcome: WebhookOutcome): void;
  /** Sets where the queue depth gauge reads from at each scrape (the composition root calls it). */
  setQueueDepthSource(source: QueueDepthSource): void;
  /** Sets where the pause gauge reads the shared pause's end (epoch ms) at each scrape. */
  setPauseSource(source: () => Promise<number | undefined>): void;
  /** Sets where readiness, lane depth, database and fleet gauges read from at each scrape. */
  setScrapeSources(sources: ScrapeSources): void;
  /** Exports the settings alerts compare with (`SWEEP_EVERY`, `API_RATE_LIMIT`, concurrency). */
  setSettings(settings: MetricSettings): void;
  /** The Prometheus text exposition of the registry. */
  render(): Promise<string>;
}

/** Where the two gauges read at scrape time get their figures; set by the composition root. */
interface LiveSources {
  queueDepth?: QueueDepthSource;
  pause?: () => Promise<number | undefined>;
}

/** Builds a fresh registry with default process metrics and every customer-sync metric on it. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const live: LiveSources = {};
  const scrape = scrapeGauges(registers);
  const sweep = sweepMetrics(registers);
  const sync = syncMetrics(registers, live);
  const api = agentEngineMetrics(registers, live);
  const webhooks = new Counter({
    name: `${PREFIX}webhooks_total`,
    help: 'Webhook deliveries, by source and outcome (applied, duplicate, stale, ignored, rejected_<reason>).',
    labelNames: ['source', 'outcome'] as const,
    registers,
  });

  return {
    registry,
    sweeps: sweep.sweeps,
    sweepDuration: sweep.sweepDuration,
    plannedChanges: sweep.plannedChanges,
    heldChanges: sweep.heldChanges,
    syncs: sync.syncs,
    queueDepth: sync.queueDepth,
    ...api,
    webhooks,
    observer: {
      onCall: ({ route, method, status, durationMs }) => {
        api.apiCalls.inc({ route, method, status: String(status) });
        api.apiLatency.observe({ route, method }, durationMs / 1000);
      },
      onTokenMint: () => api.tokenMints.inc(),
    },
    syncEvents: syncEventsRecorder(sync, sweep.heldChanges, api.breakerState),
    recordSweep: (report, ms) => recordSweep(sweep, report, ms),
    recordWebhook: (source, outcome) => webhooks.inc({ source, outcome }),
    setQueueDepthSource: (source) => {
      live.queueDepth = source;
    },
    setPauseSource: (source) => {
      live.pause = source;
    },
    setScrapeSources: scrape.setSources,
    setSettings: scrape.setSettings,
    render: () => registry.metrics(),
  };
}

/** The metrics of sweeps: how many, how long, what they planned and held, pages read. */
function sweepMetrics(registers: Registry[]) {
  return {
    sweeps: new Counter({
      name: `${PREFIX}sweeps_total`,
      help: 'Sweeps finished, by outcome (ok, held, incomplete, skipped); a sweep that throws is not counted here.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    sweepDuration: new Histogram({
      name: `${PREFIX}sweep_duration_seconds`,
      help: 'How long a sweep took, from start to its syncs being queued.',
      labelNames: ['outcome'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    }),
    plannedChanges: new Counter({
      name: `${PREFIX}sweep_changes_planned_total`,
      help: 'Changes sweeps planned, by action.',
      labelNames: ['action'] as const,
      registers,
    }),
    heldChanges: new Counter({
      name: `${PREFIX}held_changes_total`,
      help: 'Destructive changes held for approval, by where they were held (sweep, sync).',
      labelNames: ['source'] as const,
      registers,
    }),
    sweepPages: new Counter({
      name: `${PREFIX}sweep_pages_total`,
      help: 'Workspace listing pages sweeps read (one Agent Engine call each).',
      registers,
    }),
  };
}

/** The metrics of syncs: how many finished and how, how long, and the queue's depth. */
function syncMetrics(registers: Registry[], live: LiveSources) {
  return {
    syncs: new Counter({
      name: `${PREFIX}syncs_total`,
      help: 'Customer syncs finished, by action performed and outcome (ok, held, failed_<kind>).',
      labelNames: ['action', 'outcome'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: `${PREFIX}queue_depth`,
      help: 'Sync jobs in the queue, by state, read at scrape time.',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        this.reset();
        if (!live.queueDepth) return;
        try {
          const counts = await live.queueDepth();
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        } catch {
          // Redis down: no depth rather than a failed scrape; readiness says why.
        }
      },
    }),
    syncDuration: new Histogram({
      name: `${PREFIX}sync_duration_seconds`,
      help: 'How long a finished sync ran, by whether it changed the workspace (an Agent Engine write) or not.',
      labelNames: ['changed'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}

/** The metrics of Agent Engine calls: count and latency, token mints, the breaker, the 429 pause. */
function agentEngineMetrics(registers: Registry[], live: LiveSources) {
  const breakerState = new Gauge({
    name: `${PREFIX}breaker_state`,
    help: 'The Agent Engine breaker: 0 closed, 1 open (mutations paused).',
    registers,
  });
  breakerState.set(0);
  return {
    apiCalls: new Counter({
      name: `${PREFIX}agent_engine_calls_total`,
      help: 'Agent Engine HTTP calls, by route template, method and status (or "error").',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    apiLatency: new Histogram({
      name: `${PREFIX}agent_engine_call_duration_seconds`,
      help: 'Agent Engine HTTP call latency, by route template and method.',
      labelNames: ['route', 'method'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    tokenMints: new Counter({
      name: `${PREFIX}token_mints_total`,
      help: 'Application tokens minted.',
      registers,
    }),
    breakerState,
    rateLimitPause: new Gauge({
      name: `${PREFIX}agent_engine_paused_seconds`,
      help: 'Seconds left of the pause a 429 imposed on every daemon (0: calls flow), read at scrape time.',
      registers,
      async collect() {
        try {
          const until = live.pause ? await live.pause() : undefined;
          this.set(until === undefined ? 0 : Math.max(0, (until - Date.now()) / 1000));
        } catch {
          // Redis down: keep the last value rather than fail the scrape; readiness says why.
        }
      },
    }),
  };
}

/** The sync worker's events as metrics: syncs by action and outcome, their duration, the breaker. */
function syncEventsRecorder(
  sync: ReturnType<typeof syncMetrics>,
  heldChanges: Counter<'source'>,
  breakerState: Gauge,
): Required<SyncEvents> {
  const countSync = (labels: LabelValues<'action' | 'outcome'>) => sync.syncs.inc(labels);
  return {
    onSynced: (_subject, result, ms) => {
      sync.syncDuration.observe({ changed: String(result.done.length > 0) }, ms / 1000);
      for (const action of result.done) countSync({ action, outcome: 'ok' });
      for (const action of result.held) countSync({ action, outcome: 'held' });
      if (result.held.length > 0) heldChanges.inc({ source: 'sync' }, result.held.length);
      // A sync that found nothing to do is the common case in a fleet in step: count it too.
      if (result.done.length === 0 && result.held.length === 0) {
        countSync({ action: 'none', outcome: 'ok' });
      }
    },
    onFailed: (_subject, kind) => countSync({ action: 'unknown', outcome: `failed_${kind}` }),
    onBreaker: (state) => breakerState.set(state === 'open' ? 1 : 0),
  };
}

/** Records one finished sweep: outcome, duration, planned changes by action, held changes, pages. */
function recordSweep(
  sweep: ReturnType<typeof sweepMetrics>,
  report: SweptReport,
  ms: number,
): void {
  const outcome = sweepOutcome(report);
  sweep.sweeps.inc({ outcome });
  sweep.sweepDuration.observe({ outcome }, ms / 1000);
  for (const action of PLAN_ACTIONS) {
    const n = report.counts[action] ?? 0;
    if (n > 0) sweep.plannedChanges.inc({ action }, n);
  }
  const held = report.counts.held ?? 0;
  if (held > 0) sweep.heldChanges.inc({ source: 'sweep' }, held);
  sweep.sweepPages.inc(report.counts.pages ?? 0);
}

/** The same outcome words as the `sweeps` table (a sweep that throws never reports). */
function sweepOutcome(report: SweptReport): string {
  if (report.skipped) return 'skipped';
  if (!report.listingComplete) return 'incomplete';
  return report.held ? 'held' : 'ok';
}

/**
 * The gauges read at scrape time: readiness, the sync jobs waiting per lane, what the database
 * says fleet-wide (last sweeps, holds, webhook events not queued, customers by state) and the
 * settings. A source that fails leaves its gauges empty for that scrape, never a failed scrape.
 */
function scrapeGauges(registers: Registry[]): {
  setSources(sources: ScrapeSources): void;
  setSettings(settings: MetricSettings): void;
} {
  let sources: ScrapeSources = {};
  // Five gauges read the one database query: one round trip per scrape, shared.
  const database = shared(() => sources.database?.());
  const fleet = refreshedEvery(() => sources.fleet?.(), FLEET_REFRESH_MS);
  // A join of the links with the source, like the fleet's counts: read as seldom.
  const regions = refreshedEvery(() => sources.regionMismatches?.(), FLEET_REFRESH_MS);
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill?: (set: (value: number, labels?: Partial<Record<L, string>>) => void) => Promise<void>,
  ) =>
    new Gauge<L>({
      name: `${PREFIX}${name}`,
      help,
      labelNames,
      registers,
      ...(fill
        ? {
            async collect() {
              this.reset();
              // A gauge without labels cannot be absent (prom-client shows 0): NaN says unknown.
              if (labelNames.length === 0) this.set(NaN);
              try {
                await fill((value, labels) => (labels ? this.set(labels, value) : this.set(value)));
              } catch {
                // The source is down: no value (NaN) rather than a stale one; readiness says why.
              }
            },
          }
        : {}),
    });

  gauge(
    'ready',
    'Whether this daemon is ready (/readyz answers 200): 1 ready, 0 not.',
    [],
    async (set) => {
      if (sources.ready) set((await sources.ready()) ? 1 : 0);
    },
  );
  gauge(
    'sync_jobs_waiting',
    'Sync jobs waiting for a worker, by lane (person, backfill); queue-wide, read at scrape time.',
    ['lane'],
    async (set) => {
      const lanes = await sources.lanes?.();
      for (const [lane, n] of Object.entries(lanes ?? {})) set(n, { lane });
    },
  );
  gauge(
    'last_sweep_timestamp_seconds',
    'When the latest sweep of each outcome finished (ok, held: the listing was read to its end; incomplete; failed); 0: none yet.',
    ['outcome'],
    async (set) => {
      const db = await database();
      if (!db) return;
      for (const outcome of SWEEP_OUTCOMES) set(db.lastSweepAt[outcome] ?? 0, { outcome });
    },
  );
  const fromDatabase = (name: string, help: string, read: (db: DatabaseGauges) => number) =>
    gauge(name, help, [], async (set) => {
      const db = await database();
      if (db) set(read(db));
    });
  fromDatabase(
    'changes_awaiting_approval',
    'Destructive changes held for approval now (approve releases them).',
    (db) => db.held,
  );
  fromDatabase(
    'oldest_held_change_age_seconds',
    'Age of the oldest change held for approval (0: none held).',
    (db) => db.oldestHoldAgeSeconds,
  );
  fromDatabase(
    'webhook_events_unqueued',
    'Applied webhook events whose sync is not queued yet past the delivery’s own try (Redis hung or down).',
    (db) => db.webhooksUnqueued,
  );
  fromDatabase(
    'oldest_unqueued_webhook_age_seconds',
    'Age of the oldest applied webhook event whose sync is not queued (0: none).',
    (db) => db.oldestUnqueuedWebhookAgeSeconds,
  );
  gauge(
    'fleet_customers',
    `Customers by sync state (in_step, failing, held, pending), as Postgres knows it; refreshed at most every ${FLEET_REFRESH_MS / 1000}s.`,
    ['state'],
    async (set) => {
      const counts = await fleet();
      if (!counts) return;
      set(counts.inStep, { state: 'in_step' });
      set(counts.failing, { state: 'failing' });
      set(counts.held, { state: 'held' });
      set(counts.pending, { state: 'pending' });
    },
  );
  gauge(
    'orphan_workspaces',
    'Workspaces linked to no customer (default excluded).',
    [],
    async (set) => {
      const counts = await fleet();
      if (counts) set(counts.orphans);
    },
  );

  gauge(
    'region_mismatches',
    `Customers whose workspace was created in another region than their row (or DEFAULT_REGION) wants now: reported, never moved; refreshed at most every ${FLEET_REFRESH_MS / 1000}s.`,
    [],
    async (set) => {
      const n = await regions();
      if (n !== undefined) set(n);
    },
  );

  const sweepInterval = gauge('sweep_interval_seconds', 'SWEEP_EVERY, in seconds.', []);
  const rate = gauge('api_rate_limit_per_second', 'API_RATE_LIMIT, in calls per second.', []);
  const concurrency = gauge(
    'worker_concurrency',
    'WORKER_CONCURRENCY of this daemon (0: a receiver).',
    [],
  );
  return {
    setSources: (next) => {
      sources = next;
    },
    setSettings: (settings) => {
      sweepInterval.set(settings.sweepEveryMs / 1000);
      rate.set(settings.apiRatePerSecond);
      concurrency.set(settings.workerConcurrency);
    },
  };
}

const SWEEP_OUTCOMES = ['ok', 'held', 'incomplete', 'failed'] as const;

/**
 * One call shared by every caller while it runs: the gauges of one scrape (prom-client starts
 * every collect in the same tick) make one round trip; the next scrape reads afresh.
 */
function shared<T>(read: () => Promise<T> | undefined): () => Promise<T | undefined> {
  let running: Promise<T | undefined> | undefined;
  return () =>
    (running ??= Promise.resolve(read()).finally(() => {
      running = undefined;
    }));
}

/**
 * The last value read, read again in the background once older than `everyMs` (the first read
 * is awaited). A failed read keeps the last value until the next one.
 */
function refreshedEvery<T>(
  read: () => Promise<T> | undefined,
  everyMs: number,
): () => Promise<T | undefined> {
  let value: T | undefined;
  let at = -Infinity;
  let running: Promise<void> | undefined;
  const refresh = () =>
    (running ??= Promise.resolve(read())
      .then((v) => {
        value = v;
        at = Date.now();
      })
      .catch(() => {})
      .finally(() => {
        running = undefined;
      }));
  return async () => {
    if (Date.now() - at > everyMs) {
      const pending = refresh();
      if (value === undefined) await pending;
    }
    return value;
  };
}
