/** How far a sweep has got: its row, and how many of the syncs it queued have ended, and how. */
import type pg from 'pg';
import { subjectKeySql } from './subjects.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface SweepRow {
  id: string;
  trigger: string;
  startedAt: Date;
  listedAt: Date | null;
  finishedAt: Date | null;
  outcome: string;
  counts: Record<string, number>;
  error: string | null;
}

export interface SweepProgressRow {
  sweep: SweepRow | null;
  /** Subjects the sweep queued a sync for. */
  queued: number;
  /** Of those, whose sync has ended since the sweep listed (ok, held or failed). */
  ended: number;
  failed: number;
  held: number;
}

const SWEEP_COLUMNS = `id, trigger, started_at as "startedAt", listed_at as "listedAt",
  finished_at as "finishedAt", outcome, counts, error`;

export async function getSweep(db: Queryable, id: string): Promise<SweepRow | null> {
  const { rows } = await db.query(`select ${SWEEP_COLUMNS} from sweeps where id = $1`, [id]);
  return (rows[0] as SweepRow | undefined) ?? null;
}

export async function latestSweeps(db: Queryable, limit = 10): Promise<SweepRow[]> {
  const { rows } = await db.query(
    `select ${SWEEP_COLUMNS} from sweeps order by started_at desc limit $1`,
    [limit],
  );
  return rows as SweepRow[];
}

export async function sweepProgress(db: Queryable, id: string): Promise<SweepProgressRow> {
  const sweep = await getSweep(db, id);
  if (!sweep) return { sweep: null, queued: 0, ended: 0, failed: 0, held: 0 };
  // Conflicts already failed are not queued again, but they are this sweep's failures too.
  const { rows } = await db.query<{ queued: number; ended: number; failed: number; held: number }>(
    `with subjects as (
       select distinct ${subjectKeySql('customer_id', 'workspace_id')} as subject
         from sweep_changes where sweep_id = $1 and queued)
     select count(*)::int as queued,
            count(st.subject)::int as ended,
            (count(*) filter (where st.outcome = 'failed'))::int
              + (select count(distinct customer_id)::int from sweep_changes
                  where sweep_id = $1 and action = 'conflict' and not queued) as failed,
            count(*) filter (where st.outcome = 'held')::int as held
       from subjects s
       left join sync_state st on st.subject = s.subject and st.at >= $2`,
    [id, sweep.listedAt ?? sweep.startedAt],
  );
  const row = rows[0] ?? { queued: 0, ended: 0, failed: 0, held: 0 };
  return { sweep, ...row };
}
