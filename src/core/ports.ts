/**
 * The narrow interfaces the core depends on. The composition root (`src/app.ts`) wires real
 * implementations; tests wire the same ones against real Postgres, Redis and the simulator.
 */
import type { Trigger } from './types.js';

/** Queues per-customer syncs (deduplicated: one active and one waiting per customer). */
export interface SyncQueue {
  /**
   * `sweepId` names the sweep that asked, for the audit. `traces[i]`, when tracing is on: the
   * (opaque, serialized) trace that `customerIds[i]`'s job continues, when it is not the caller's.
   */
  enqueue(
    customerIds: readonly string[],
    trigger: Trigger,
    sweepId?: string,
    traces?: readonly (string | undefined)[],
  ): Promise<void>;
}
