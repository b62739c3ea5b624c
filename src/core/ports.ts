/**
 * The narrow interfaces the core depends on. The composition root (`src/app.ts`) wires real
 * implementations; tests wire the same ones against real Postgres, Redis and the simulator.
 */
import type { Trigger } from './types.js';

/** How a batch of syncs is queued, besides its trigger. */
export interface EnqueueOptions {
  /** The sweep that asked, for the audit. */
  readonly sweepId?: string;
  /**
   * When tracing is on, `traces[i]` is the (opaque, serialized) trace that `customerIds[i]`'s job
   * continues, when it is not the caller's.
   */
  readonly traces?: readonly (string | undefined)[];
  /**
   * A person asked for these syncs by name (`enqueue <id>...`, the console's "Sync now",
   * `retry-failed`): each reads its workspace (a GET) before deciding, instead of trusting the
   * link's last-known state, so it repairs what changed on the Agent Engine's side. Kept through
   * deduplication: the next sync of the subject to start reads first.
   */
  readonly readFirst?: boolean;
}

/** Queues per-customer syncs (deduplicated: one active and one waiting per customer). */
export interface SyncQueue {
  enqueue(
    customerIds: readonly string[],
    trigger: Trigger,
    options?: EnqueueOptions,
  ): Promise<void>;
}
