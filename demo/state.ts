/**
 * The demo's state across restarts, when it runs on its embedded servers: Postgres and Redis keep
 * theirs in the data folder, and the in-process simulator's workspaces are saved beside them
 * (one JSON file, named below), so a restarted demo finds its customers, links and workspaces as it
 * left them. `npm run demo -- --reset` starts clean.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type pg from 'pg';

import type { Simulator, SimWorkspace } from '../simulator/index.js';

export interface DemoState {
  /** Whether a previous run's state is there to keep (customers in the database, a saved simulator). */
  found(pool: pg.Pool): Promise<boolean>;
  /** Puts the saved workspaces back into the simulator. */
  restore(sim: Simulator): Promise<void>;
  /** Saves the simulator's workspaces (atomically: a stop half-way leaves the last good save). */
  save(sim: Simulator): Promise<void>;
  /** Forgets the saved workspaces. */
  clear(): Promise<void>;
}

export function demoState(dir: string): DemoState {
  const file = join(dir, 'simulator.json');
  const saved = async (): Promise<SimWorkspace[] | undefined> => {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as SimWorkspace[]);
  };
  return {
    found: async (pool) => {
      if (!(await saved())) return false;
      const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from customers');
      return (rows[0]?.n ?? 0) > 0;
    },
    restore: async (sim) => sim.store.restore((await saved()) ?? []),
    save: async (sim) => {
      await writeFile(`${file}.tmp`, JSON.stringify(sim.store.records()));
      await rename(`${file}.tmp`, file);
    },
    clear: () => rm(file, { force: true }),
  };
}
