/**
 * The sweep's staging: the workspace listing paged into an UNLOGGED table, so the diff is SQL and
 * the daemon holds one page (and one chunk being written) at a time, whatever the fleet's size.
 */
import type pg from 'pg';

import type { Workspace } from '../agent-engine/types.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** Stages a chunk of the listing; a cursor that repeats an item is harmless. */
export async function stageWorkspaces(
  db: Queryable,
  sweepId: string,
  page: readonly Workspace[],
): Promise<void> {
  if (page.length === 0) return;
  await db.query(
    `insert into sweep_workspaces (sweep_id, workspace_id, name, status)
     select $1, * from unnest($2::uuid[], $3::text[], $4::text[])
     on conflict do nothing`,
    [sweepId, page.map((w) => w.id), page.map((w) => w.name), page.map((w) => w.status)],
  );
}

/** Stages pages as they are listed, without making the listing wait for Postgres. */
export interface StagingWriter {
  /** Buffers a page; waits only while an insert is in flight and the buffer is full. */
  add(page: readonly Workspace[]): Promise<void>;
  /** Stages what is buffered and waits for every insert; throws the first failure. */
  finish(): Promise<void>;
}

/**
 * Pages are buffered into chunks of `chunk` rows, and one chunk is inserted while the next pages
 * are fetched: the insert of chunk k overlaps the fetches of chunk k+1, so the listing runs at
 * the speed of the API, not of the API plus Postgres. At most one insert is in flight and one
 * chunk buffered, so memory stays bounded whatever the fleet size.
 */
export function stagingWriter(db: Queryable, sweepId: string, chunk = 2000): StagingWriter {
  let buffer: Workspace[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;
  const flush = async () => {
    await inFlight;
    if (failure) throw failure.error;
    const rows = buffer;
    buffer = [];
    inFlight = stageWorkspaces(db, sweepId, rows).catch((error: unknown) => {
      failure ??= { error };
    });
  };
  return {
    async add(page) {
      if (failure) throw failure.error;
      for (const w of page) buffer.push(w);
      if (buffer.length >= chunk) await flush();
    },
    async finish() {
      if (buffer.length > 0 && !failure) await flush().catch(() => {});
      await inFlight;
      if (failure) throw failure.error;
    },
  };
}

export async function dropStaging(db: Queryable, sweepId: string): Promise<void> {
  await db.query('delete from sweep_workspaces where sweep_id = $1', [sweepId]);
}
