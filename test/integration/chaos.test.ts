/**
 * The chaos run, small: 150 customers and 30 s of every fault of `npm run chaos` (a daemon
 * SIGKILLed and restarted, another SIGSTOPped, 5xx, 429 bursts, 504 deletes, latency spikes, a
 * 3-second token and a revocation, Redis restarted empty, Postgres restarted, webhooks and direct
 * writes), then every invariant of the full run, each with its figure in the failure message.
 */
import { describe, expect, it } from 'vitest';

import { runChaos } from '../../chaos/run.js';

describe('chaos', () => {
  it('converges, loses nothing, duplicates nothing, leaks nothing under every fault at once', async () => {
    const report = await runChaos({
      customers: 150,
      durationMs: 30_000,
      killEveryMs: 10_000,
      pauseMs: 12_000,
      webhooksPerSecond: 5,
      directPerSecond: 2,
      sweepEveryMs: 8_000,
      massDeactivation: 40,
      maxDestructivePerSweep: 15,
      restartPostgres: true,
    });
    const failed = report.verdicts.filter((v) => !v.ok).map((v) => `${v.name}: ${v.figure}`);
    expect(failed, report.facts.join('\n')).toEqual([]);
    expect(report.verdicts).toHaveLength(7);
  }, 180_000);
});
