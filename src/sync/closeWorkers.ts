/**
 * Closing the workers, within a bound. A graceful close lets in-flight jobs finish; when they do
 * not within `SHUTDOWN_TIMEOUT`, the workers' connections are cut (their jobs' locks lapse and
 * another daemon retakes them), and that too is waited for only so long: a daemon told to stop
 * stops, whatever state Redis is in.
 *
 * BullMQ's `Worker#close(true)` is no way out of a graceful close that hangs: `close` returns the
 * first call's promise to every later call, so the forced close would wait on the same promise.
 * Cutting the connections is what makes a hung close settle (a connection to a Redis Cluster that
 * is reconnecting can otherwise wait for ever).
 */
import type { Logger } from '../lib/logger.js';

/** What is closed: BullMQ's Worker has both. */
export interface ClosableWorker {
  close(force?: boolean): Promise<void>;
  disconnect(): Promise<void>;
}

/** How long the forced close (connections cut) is waited for before the daemon goes on without it. */
export const FORCED_CLOSE_MS = 5_000;

/** Resolves `true` when `promise` settles within `ms`, `false` otherwise; never rejects. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Closes `workers` gracefully within `timeoutMs`; past it, cuts their connections (`disconnect`,
 * and `cut`, the connection they were given) and waits at most {@link FORCED_CLOSE_MS} more.
 */
export async function closeWorkers(
  workers: readonly ClosableWorker[],
  timeoutMs: number,
  logger: Logger,
  cut: () => void = () => {},
  forcedCloseMs = FORCED_CLOSE_MS,
): Promise<void> {
  const closing = Promise.allSettled(workers.map((w) => w.close()));
  if (await settlesWithin(closing, timeoutMs)) return;
  logger.warn(
    { timeoutMs },
    'in-flight jobs did not finish in time; closing the connections, another daemon retakes them',
  );
  cut();
  const forced = Promise.allSettled(
    workers.map(async (w) => {
      await w.disconnect();
      await w.close(true);
    }),
  );
  if (await settlesWithin(Promise.all([closing, forced]), forcedCloseMs)) return;
  logger.warn(
    { forcedCloseMs },
    'the workers did not close after their connections were cut; stopping without them',
  );
}
