/**
 * After the faults: approve held changes, wait for convergence (deadline: two sweep intervals
 * after the faults stopped), then read everything once more and give each invariant its verdict.
 */
import type pg from 'pg';

import type { App } from '../src/app.js';
import type { Simulator } from '../simulator/index.js';
import {
  auditAccounts,
  type Db,
  divergences,
  identity,
  ownersOf,
  policy,
  type Verdict,
} from './checks.js';
import type { LeakScanner } from './leaks.js';
import type { Model } from './model.js';
import { type ChaosOptions, graceOf, STALE_MARGIN_MS } from './options.js';
import type { TrafficCounts } from './traffic.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The database as the checks read it; `full` adds the audit and the holds. */
export async function readDb(pool: pg.Pool, full: boolean): Promise<Db> {
  const rows = await pool.query<{ id: string; name: string; status: string }>(
    'select id, name, status from customers',
  );
  const links = await pool.query<{ customer_id: string; workspace_id: string }>(
    'select customer_id, workspace_id from customer_links',
  );
  const shared = await pool.query<{ n: number }>(
    `select count(*)::int as n from (select workspace_id from customer_links
       group by workspace_id having count(*) > 1) s`,
  );
  const audit = full
    ? await pool.query(
        `select extract(epoch from at) * 1000 as at, customer_id, workspace_id, action, after, trigger, outcome
           from audit`,
      )
    : { rows: [] };
  const holds = full
    ? await pool.query(
        `select sweep_id, customer_id, workspace_id, action, extract(epoch from created_at) * 1000 as created,
                state, extract(epoch from decided_at) * 1000 as decided from holds`,
      )
    : { rows: [] };
  return {
    rows: new Map(rows.rows.map((r) => [r.id, { name: r.name, status: r.status }])),
    links: new Map(links.rows.map((r) => [r.customer_id, r.workspace_id])),
    sharedWorkspaces: shared.rows[0]?.n ?? 0,
    audit: audit.rows.map((r) => ({
      at: Number(r.at),
      customerId: r.customer_id,
      workspaceId: r.workspace_id,
      action: r.action,
      after: r.after,
      trigger: r.trigger,
      outcome: r.outcome,
    })),
    holds: holds.rows.map((r) => ({
      sweepId: r.sweep_id,
      customerId: r.customer_id,
      workspaceId: r.workspace_id,
      action: r.action,
      createdAt: Number(r.created),
      state: r.state,
      decidedAt: r.decided === null ? null : Number(r.decided),
    })),
  };
}

export interface JudgeInput {
  readonly o: ChaosOptions;
  readonly app: App;
  readonly approve: () => Promise<{ approved: unknown[] }>;
  readonly pool: pg.Pool;
  readonly sim: Simulator;
  readonly model: Model;
  readonly uncertain: ReadonlySet<string>;
  readonly orphanIds: ReadonlySet<string>;
  readonly massIds: ReadonlySet<string>;
  readonly webhookIds: readonly string[];
  readonly initialLinks: ReadonlyMap<string, string>;
  readonly stoppedAt: number;
  readonly pause: { readonly start: number; readonly end: number };
  readonly threshold: number;
  readonly t0: number;
  readonly scanner: LeakScanner;
  readonly scanRedis: () => Promise<void>;
  readonly dumpPostgres: () => Promise<string>;
  readonly traffic: TrafficCounts;
  readonly say: (line: string) => void;
}

/** The sweeps as one line: how many, by outcome, and the ones after the faults stopped. */
export async function sweepsFact(pool: pg.Pool, t0: number, stoppedAt: number): Promise<string> {
  const { rows } = await pool.query<{
    started: number;
    took: number | null;
    outcome: string;
    error: string | null;
    trigger: string;
  }>(
    `select extract(epoch from started_at) * 1000 as started, trigger, outcome, error,
            extract(epoch from finished_at - started_at) * 1000 as took
       from sweeps order by started_at`,
  );
  const byOutcome: Record<string, number> = {};
  for (const r of rows) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
  const at = (ms: number) => `+${((ms - t0) / 1000).toFixed(0)}s`;
  const list = rows.map(
    (r) =>
      `${at(Number(r.started))} ${r.outcome}${r.took === null ? '' : ` ${(Number(r.took) / 1000).toFixed(1)}s`}${r.error ? ` (${r.error.slice(0, 80)})` : ''}`,
  );
  return `sweeps: ${rows.length} ${JSON.stringify(byOutcome)}, faults stopped at ${at(stoppedAt)}: ${list.join(', ')}`;
}

export async function judge(j: JudgeInput): Promise<Verdict[]> {
  const { o, sim, model } = j;
  const graceMs = graceOf(o);
  const limitMs = 2 * o.sweepEveryMs;
  const deadline = j.stoppedAt + limitMs;
  let approvedAt = Infinity;
  let approvals = 0;
  let lastApprove = 0;
  let left: string[] = [];
  let convergedAt: number | undefined;
  for (;;) {
    if (Date.now() - lastApprove >= 2_000) {
      lastApprove = Date.now();
      const approved = await j.approve().catch(() => ({ approved: [] }));
      if (approved.approved.length > 0) {
        approvedAt = Math.min(approvedAt, lastApprove);
        approvals += approved.approved.length;
      }
    }
    const db = await readDb(j.pool, false).catch(() => undefined);
    if (db) {
      left = divergences(model, db, sim.store, j.uncertain, graceMs, Date.now());
      if (left.length === 0) {
        convergedAt = Date.now();
        break;
      }
    }
    if (Date.now() > deadline) break;
    await sleep(500);
  }
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  j.say(
    convergedAt
      ? `converged after ${seconds(convergedAt - j.stoppedAt)}`
      : `not converged: ${left.length} differ`,
  );
  const convergence: Verdict = {
    name: 'every workspace matches its customer row within two sweep intervals of the faults stopping',
    ok: convergedAt !== undefined,
    figure: convergedAt
      ? `${model.rows.size.toLocaleString('en-US')} customers in step ${seconds(convergedAt - j.stoppedAt)} after the faults stopped (limit ${seconds(limitMs)}; ${approvals} held changes approved)`
      : `${left.length} of ${model.rows.size} customers still differ ${seconds(Date.now() - j.stoppedAt)} after the faults stopped (limit ${seconds(limitMs)}); e.g. ${left.slice(0, 3).join('; ')}`,
  };

  const db = await readDb(j.pool, true);
  const now = Date.now();
  const webhookLeft = divergences(model, db, sim.store, j.uncertain, graceMs, now, j.webhookIds);
  const answered = Object.values(j.traffic.outcomes).reduce((a, b) => a + b, 0);
  const webhooks: Verdict = {
    name: 'every webhook answered 2xx is reflected in customers and in the remote',
    ok: webhookLeft.length === 0 && j.traffic.unanswered === 0,
    figure:
      `${answered} deliveries answered 2xx ${JSON.stringify(j.traffic.outcomes)} for ${j.webhookIds.length} customers; ` +
      `${webhookLeft.length} customers not reflected; ${j.traffic.unanswered} events never answered 2xx` +
      (webhookLeft.length ? `; e.g. ${webhookLeft.slice(0, 3).join('; ')}` : ''),
  };

  const excused = (c: { at: number; expiredAt: number }) =>
    c.expiredAt >= j.pause.start && c.expiredAt <= j.pause.end && c.at <= j.pause.end + 5_000;
  const expired = sim.journal.expiredCalls;
  const late = expired.filter((c) => !excused(c));
  const worst = late.reduce((m, c) => Math.max(m, c.at - c.expiredAt), 0);
  const calls: Verdict = {
    name: 'no two mutating calls on one workspace at once; no expired token once a refresh was possible',
    ok: sim.stats.mutatingOverlaps === 0 && late.length === 0,
    figure:
      `${sim.stats.mutatingOverlaps} overlapping mutations; ${late.length} calls with an expired token` +
      (late.length ? ` (up to ${worst} ms late, e.g. ${late[0]?.route})` : '') +
      ` (+${expired.length - late.length} from the SIGSTOPped daemon right after SIGCONT, excused)`,
  };

  const owners = ownersOf(db, j.initialLinks);
  const verdicts = [
    convergence,
    identity(model, db, sim.store, sim.journal, j.orphanIds, STALE_MARGIN_MS, owners, j.t0),
    webhooks,
    calls,
    policy({
      model,
      db,
      journal: sim.journal,
      owners,
      orphanIds: j.orphanIds,
      massIds: j.massIds,
      approvedAt,
      graceMs,
      threshold: j.threshold,
      t0: j.t0,
    }),
    auditAccounts(db, sim.journal),
  ];

  await j.scanRedis();
  j.scanner.setTokens(sim.journal.tokens);
  j.scanner.postgres(await j.dumpPostgres());
  verdicts.push({
    name: 'no secret or issued token in a log line, a Redis value or a Postgres row',
    ok: j.scanner.found.length === 0,
    figure:
      `${j.scanner.tokenCount} tokens + 4 secrets looked for in ${j.scanner.scanned.logLines.toLocaleString('en-US')} log lines, ` +
      `${j.scanner.scanned.redisKeys} Redis values, ${(j.scanner.scanned.postgresBytes / 1e6).toFixed(1)} MB of pg_dump: ` +
      (j.scanner.found.length ? `found ${j.scanner.found.join('; ')}` : 'none found'),
  });
  return verdicts;
}
