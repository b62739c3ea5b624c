/**
 * One chaos run: private Postgres and Redis, the simulator in-process, a drifted fleet, three
 * daemons, the faults and the traffic for a bounded time; then the faults stop, held changes are
 * approved, the run waits (with a deadline of two sweep intervals) for convergence, and checks
 * every invariant. Everything it started is stopped whatever happens.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Writable } from 'node:stream';

import { driftFleet, seedFleet } from '../bench/fleet.js';
import { sleep } from '../bench/infra.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { runMigrations } from '../src/db/migrate.js';
import { createLogger } from '../src/lib/logger.js';
import { approve } from '../src/ops/approve.js';
import { startSimulator } from '../simulator/index.js';
import { newBillingSecret } from '../test/support/webhookSigners.js';
import { type Verdict } from './checks.js';
import { type ChaosDaemon, startChaosDaemon } from './daemons.js';
import { startFaults } from './faults.js';
import { LeakScanner } from './leaks.js';
import { Model } from './model.js';
import { type ChaosOptions, graceOf, MAX_DESTRUCTIVE_SHARE } from './options.js';
import { judge, readDb, sweepsFact } from './judge.js';
import { resilientPool, startPostgres, startRedis } from './services.js';
import { Traffic } from './traffic.js';

export interface ChaosReport {
  readonly ok: boolean;
  readonly verdicts: readonly Verdict[];
  /** What happened, in numbers (faults carried out, traffic, timings). */
  readonly facts: readonly string[];
}

const shuffle = <T>(items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
};

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const note = o.progress ?? (() => {});
  const undo: (() => Promise<unknown>)[] = [];
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
  const say = (line: string) => note(`[${elapsed()}] ${line}`);
  try {
    const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    undo.push(
      () => postgres.stop(),
      () => redis.stop(),
    );
    const dbName = 'customer_sync_chaos';
    const dbUrl = postgres.url(dbName);
    await runMigrations(dbUrl);
    const pool = resilientPool(dbUrl);
    undo.push(() => pool.end());

    const clientSecret = `chaos-client-secret-${randomBytes(12).toString('hex')}`;
    const billingSecrets = [newBillingSecret(), newBillingSecret()];
    const stripeSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const sim = await startSimulator({
      clientId: 'chaos-client',
      clientSecret,
      appTokenTtlMs: 3_000,
    });
    undo.push(() => sim.close());

    // The fleet, already in step, then drift on both sides.
    await seedFleet(pool, sim, o.customers);
    const drifted = await driftFleet(pool, o.customers, Math.max(0.01, 10 / o.customers));
    const orphanIds = new Set<string>();
    for (let k = 0; k < 5; k++) orphanIds.add(sim.store.create(`Orphan ${k}`).id);
    const remoteDrift = remoteDrifter(sim);
    const seededWs = shuffle(sim.store.list().filter((w) => w.name.startsWith('Customer ')));
    for (const w of seededWs.slice(0, Math.ceil(o.customers * 0.01))) remoteDrift(w.id);

    const model = new Model();
    const { rows } = await pool.query<{ id: string; name: string; status: 'active' | 'inactive' }>(
      'select id, name, status from customers',
    );
    for (const r of rows) model.seed(r.id, { name: r.name, status: r.status });
    const initialLinks = (await readDb(pool, false)).links;
    const ids = shuffle(rows.map((r) => r.id));
    const massIds = ids
      .splice(0, o.massDeactivation)
      .filter((id) => model.rows.get(id)?.status === 'active');
    const webhookIds = ids.splice(0, Math.ceil(o.customers * 0.2));
    const directIds = ids.splice(0, Math.ceil(o.customers * 0.1));
    const remoteIds = ids.splice(0, Math.ceil(o.customers * 0.02));

    const scanner = new LeakScanner([clientSecret, ...billingSecrets, stripeSecret]);
    const env: Record<string, string> = {
      DATABASE_URL: dbUrl,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'cs-chaos',
      AGENT_ENGINE_URL: sim.url,
      AGENT_ENGINE_CLIENT_ID: 'chaos-client',
      AGENT_ENGINE_CLIENT_SECRET: clientSecret,
      BILLING_WEBHOOK_SECRET: billingSecrets.join(' '),
      STRIPE_WEBHOOK_SECRET: stripeSecret,
      SWEEP_EVERY: `${o.sweepEveryMs}ms`,
      DELETE_GRACE: `${graceOf(o)}ms`,
      MAX_DESTRUCTIVE_PER_SWEEP: String(o.maxDestructivePerSweep),
      MAX_DESTRUCTIVE_SHARE: `${MAX_DESTRUCTIVE_SHARE * 100}%`,
      ORPHANS: 'report',
      API_RATE_LIMIT: '200/s',
      TOKEN_REFRESH_SKEW: '1s',
      REQUEST_TIMEOUT: '5s',
      LOCK_DURATION: '5s',
      SYNC_BACKOFF: '200ms',
      WORKER_CONCURRENCY: '4',
      SHUTDOWN_TIMEOUT: '5s',
      LOG_LEVEL: 'debug',
    };
    const config = loadConfig(env);
    // Every line is scanned, and kept on disk for a failed run's post-mortem.
    const logDir = await mkdtemp(join(tmpdir(), 'cs-chaos-logs-'));
    const logFiles = new Map<string, WriteStream>();
    const logs = { keep: false };
    undo.push(async () => {
      for (const f of logFiles.values()) f.end();
      if (!logs.keep) await rm(logDir, { recursive: true, force: true });
    });
    // The lines naming a failed verdict's ids go into the report: CI keeps no files.
    const traced = new Tracer();
    const lines = (name: string) => (line: string) => {
      scanner.setTokens(sim.journal.tokens);
      scanner.logLine(name, line);
      traced.add(name, line);
      let file = logFiles.get(name);
      if (!file) logFiles.set(name, (file = createWriteStream(join(logDir, `${name}.log`))));
      file.write(`${line}\n`);
    };
    const daemons = await Promise.all(
      ['a', 'b', 'c'].map((name) => startChaosDaemon(name, env, lines(name))),
    );
    for (const d of daemons) undo.push(() => d.stop());
    // a is SIGKILLed and restarted, b SIGSTOPped once, c left alone.
    const [killed, paused] = daemons as [ChaosDaemon, ChaosDaemon, ChaosDaemon];
    say(
      `${o.customers} customers (${drifted} drifted in the table, ${Math.ceil(o.customers * 0.01)} workspaces drifted), 3 daemons up`,
    );

    const uncertain = new Set<string>();
    const traffic = new Traffic({
      model,
      pool,
      urls: () => daemons.map((d) => d.url),
      secret: billingSecrets[1] as string,
      webhookIds,
      directIds,
      uncertain,
    });
    const remote = async () =>
      remoteDrift(
        sim.store.findByName(model.rows.get(shuffle(remoteIds)[0] ?? '')?.name ?? '')?.id,
      );
    const faults = startFaults({
      sim,
      killed,
      paused,
      durationMs: o.durationMs,
      killEveryMs: o.killEveryMs,
      pauseMs: o.pauseMs,
      note: say,
      drift: () => void remote(),
      once: [
        {
          at: 0.3,
          what: 'Redis restarted, its data lost',
          run: async () => {
            await scanRedis(scanner, redis.url, sim.journal.tokens, 'before its restart');
            await redis.restartEmpty();
          },
        },
        {
          at: 0.4,
          what: `mass deactivation of ${massIds.length} customers`,
          run: () => traffic.massDeactivate(massIds),
        },
        { at: 0.5, what: 'every token revoked', run: async () => sim.faults.revokeAllTokens() },
        ...(o.restartPostgres
          ? [{ at: 0.65, what: 'Postgres restarted', run: () => postgres.restart() }]
          : []),
      ],
    });
    traffic.start(o.webhooksPerSecond, o.directPerSecond);
    say(`faults and traffic for ${o.durationMs / 1000} s`);
    await sleep(o.durationMs);
    await traffic.stop(30_000);
    await faults.stop();
    const stoppedAt = Date.now();
    say('faults stopped; approving held changes and waiting for convergence');

    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, done) {
          lines('chaos')(chunk.toString());
          done();
        },
      }),
    });
    const app = createApp(config, { logger });
    undo.push(() => app.close());
    const verdicts = await judge({
      o,
      app,
      approve: () => approve(app, { kind: 'all' }),
      pool,
      sim,
      model,
      uncertain,
      orphanIds,
      massIds: new Set(massIds),
      webhookIds,
      initialLinks,
      stoppedAt,
      pause: faults.pause,
      threshold: Math.max(
        o.maxDestructivePerSweep,
        Math.floor(MAX_DESTRUCTIVE_SHARE * (o.customers + 500)),
      ),
      t0: started,
      scanner,
      scanRedis: () => scanRedis(scanner, redis.url, sim.journal.tokens, 'at the end'),
      dumpPostgres: () => postgres.dump(dbName),
      traffic: traffic.counts,
      say,
    });
    const facts = [
      `faults: ${faults.kills} SIGKILL+restart of daemon a, SIGSTOP of daemon b ${((faults.pause.end - faults.pause.start) / 1000).toFixed(0)} s, Redis restarted empty, every token revoked${o.restartPostgres ? ', Postgres restarted' : ''}` +
        (faults.failures.length
          ? `; fault actions that failed: ${faults.failures.join('; ')}`
          : ''),
      `simulator: ${describeCalls(sim)}`,
      await sweepsFact(pool, started, stoppedAt),
      `webhooks: ${traffic.counts.events} events sent and ${traffic.counts.replays} replayed, answered 2xx ${JSON.stringify(traffic.counts.outcomes)}, ${traffic.counts.retries} failed deliveries retried, ${traffic.counts.unanswered} never answered; direct writes ${traffic.counts.directWrites} (${traffic.counts.directRetries} retried)`,
      `leak scan: ${scanner.scanned.logLines} log lines, ${scanner.scanned.redisKeys} Redis values, ${(scanner.scanned.postgresBytes / 1e6).toFixed(1)} MB of pg_dump; ${scanner.tokenCount} tokens issued`,
      `wall: ${elapsed()} (faults ${o.durationMs / 1000} s, stopped at +${((stoppedAt - started) / 1000).toFixed(0)} s)`,
    ];
    const ok = verdicts.every((v) => v.ok);
    logs.keep = !ok || o.keepLogs === true;
    if (logs.keep) facts.push(`daemon logs kept in ${logDir}`);
    const trace = verdicts.filter((v) => !v.ok).flatMap((v) => v.trace ?? []);
    if (trace.length) facts.push(traced.naming(trace));
    return { ok, verdicts, facts };
  } finally {
    for (const step of undo.reverse()) await step().catch(() => {});
  }
}

/** Drifts one workspace behind the system's back: a rename, a status flip, or a delete. */
function remoteDrifter(sim: Awaited<ReturnType<typeof startSimulator>>) {
  let n = 0;
  return (id: string | undefined) => {
    const ws = id ? sim.store.get(id) : undefined;
    if (!ws) return;
    const roll = n++ % 5;
    if (roll < 2) sim.store.rename(ws.id, `${ws.name} (remote drift ${n})`);
    else if (roll < 4) sim.store.setStatus(ws.id, ws.status === 'active' ? 'inactive' : 'active');
    else sim.store.delete(ws.id);
  };
}

function describeCalls(sim: Awaited<ReturnType<typeof startSimulator>>): string {
  let total = 0;
  const byStatus: Record<string, number> = {};
  for (const statuses of Object.values(sim.stats.byRoute)) {
    for (const [status, n] of Object.entries(statuses)) {
      total += n;
      byStatus[status] = (byStatus[status] ?? 0) + n;
    }
  }
  return `${total} calls ${JSON.stringify(byStatus)}, ${sim.stats.tokenMints} application tokens, ${sim.stats.scopedMints} scoped`;
}

async function scanRedis(
  scanner: LeakScanner,
  url: string,
  tokens: readonly string[],
  label: string,
) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  redis.on('error', () => {});
  try {
    scanner.setTokens(tokens);
    await scanner.redis(redis, label);
  } finally {
    redis.disconnect();
  }
}

/** The daemons' log lines, kept to quote those naming some ids after a failed run. */
class Tracer {
  readonly #lines: string[] = [];

  add(daemon: string, line: string): void {
    this.#lines.push(`${daemon} ${line}`);
  }

  /** The last lines naming any of `ids`, each cut short. */
  naming(ids: readonly string[], max = 60): string {
    const hits = this.#lines.filter((l) => ids.some((id) => l.includes(id))).slice(-max);
    const cut = hits.map((l) => (l.length > 600 ? `${l.slice(0, 600)}…` : l));
    return `log lines naming ${ids.join(', ')} (last ${cut.length}):\n${cut.join('\n')}`;
  }
}
