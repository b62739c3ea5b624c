/** The chaos run's knobs: the full run (issue 10), `--quick`, and the one inside `npm test`. */
export interface ChaosOptions {
  readonly customers: number;
  /** How long the faults last. */
  readonly durationMs: number;
  /** One daemon is SIGKILLed and restarted this often. */
  readonly killEveryMs: number;
  /** Another is SIGSTOPped this long (once). */
  readonly pauseMs: number;
  readonly webhooksPerSecond: number;
  readonly directPerSecond: number;
  readonly sweepEveryMs: number;
  /** The mass deactivation the gate must hold (more than `maxDestructivePerSweep`). */
  readonly massDeactivation: number;
  readonly maxDestructivePerSweep: number;
  readonly restartPostgres: boolean;
  /** Keep the daemons' logs even when every invariant holds (a failed run always keeps them). */
  readonly keepLogs?: boolean;
  /** Progress lines (stderr for the CLI; nothing in tests). */
  readonly progress?: (line: string) => void;
}

export const FULL: ChaosOptions = {
  customers: 5_000,
  durationMs: 100_000,
  killEveryMs: 20_000,
  pauseMs: 40_000,
  webhooksPerSecond: 10,
  directPerSecond: 2,
  sweepEveryMs: 15_000,
  massDeactivation: 200,
  maxDestructivePerSweep: 60,
  restartPostgres: true,
};

export const QUICK: ChaosOptions = {
  customers: 300,
  durationMs: 40_000,
  killEveryMs: 10_000,
  pauseMs: 15_000,
  webhooksPerSecond: 6,
  directPerSecond: 2,
  sweepEveryMs: 10_000,
  massDeactivation: 60,
  maxDestructivePerSweep: 20,
  restartPostgres: true,
};

/**
 * `DELETE_GRACE` of a run: half a sweep interval. A reminder lost with Redis's data leaves a due
 * delete to the first sweep after its due time, so a delete that falls due within half an interval
 * of the faults stopping is still carried out within the two intervals the convergence check allows.
 */
export const graceOf = (o: Pick<ChaosOptions, 'sweepEveryMs'>): number => o.sweepEveryMs / 2;

/** A share so small that `maxDestructivePerSweep` is the limit that counts. */
export const MAX_DESTRUCTIVE_SHARE = 0.01;
/** How long after a customer left a name a sync may still mint it (it read the row just before). */
export const STALE_MARGIN_MS = 10_000;
