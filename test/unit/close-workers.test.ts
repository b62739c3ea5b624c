/**
 * A stopping daemon's workers close within a bound, whatever Redis does. The workers here stand in
 * for BullMQ's (a hang at an exact moment cannot be made real): like BullMQ 6.7's `Worker#close`,
 * every call after the first returns the first call's promise, which is why a forced close alone
 * could never end a graceful close that hangs (a whole Redis Cluster down did that in CI).
 */
import { describe, expect, it } from 'vitest';

import { closeWorkers } from '../../src/sync/closeWorkers.js';
import { createLogger } from '../../src/lib/logger.js';
import { logLines } from '../support/logLines.js';

function capture() {
  const { lines, destination } = logLines();
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

/** A worker whose close settles when `finish` is called, or when its connection is cut. */
function fakeWorker(options: { closesOnDisconnect: boolean }) {
  let finish!: () => void;
  let closing: Promise<void> | undefined;
  const calls: string[] = [];
  const worker = {
    calls,
    finish: () => finish(),
    close(force = false): Promise<void> {
      calls.push(force ? 'close(force)' : 'close');
      closing ??= new Promise<void>((resolve) => (finish = resolve));
      return closing;
    },
    async disconnect(): Promise<void> {
      calls.push('disconnect');
      if (options.closesOnDisconnect) finish();
    },
  };
  return worker;
}

describe('closeWorkers', () => {
  it('lets in-flight jobs finish, and cuts nothing, when they finish in time', async () => {
    const { logger, lines } = capture();
    const worker = fakeWorker({ closesOnDisconnect: true });
    let cut = 0;
    const closing = closeWorkers([worker], 1_000, logger, () => (cut += 1), 1_000);
    worker.finish();
    await closing;
    expect(worker.calls).toEqual(['close']);
    expect(cut).toBe(0);
    expect(lines).toEqual([]);
  });

  it('cuts the connections once SHUTDOWN_TIMEOUT has passed, and returns when that closes them', async () => {
    const { logger, lines } = capture();
    const worker = fakeWorker({ closesOnDisconnect: true });
    let cut = 0;
    const started = performance.now();
    await closeWorkers([worker], 50, logger, () => (cut += 1), 60_000);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(cut).toBe(1);
    expect(worker.calls).toEqual(['close', 'disconnect', 'close(force)']);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      'in-flight jobs did not finish in time; closing the connections, another daemon retakes them',
    ]);
  });

  it('returns, and says so, when even the forced close hangs', async () => {
    const { logger, lines } = capture();
    const worker = fakeWorker({ closesOnDisconnect: false });
    await closeWorkers([worker], 20, logger, () => {}, 20);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      'in-flight jobs did not finish in time; closing the connections, another daemon retakes them',
      'the workers did not close after their connections were cut; stopping without them',
    ]);
  });
});
