/**
 * The fault schedule, all at once for `durationMs`: 10% 5xx and half the deletes answering 504
 * after completing, throughout; 429 bursts with Retry-After and 200 ms latency spikes, now and
 * then; one daemon SIGKILLed and restarted every `killEveryMs`, another SIGSTOPped for `pauseMs`;
 * Redis restarted empty, every token revoked, Postgres restarted, a mass deactivation, and the
 * remote drifting under the system's feet, each once or periodically.
 */
import type { Simulator } from '../simulator/index.js';
import type { ChaosDaemon } from './daemons.js';

export interface ScheduledEvent {
  /** Fraction of the duration at which it happens. */
  readonly at: number;
  readonly what: string;
  readonly run: () => Promise<void>;
}

export interface FaultPlan {
  readonly sim: Simulator;
  readonly killed: ChaosDaemon;
  readonly paused: ChaosDaemon;
  readonly durationMs: number;
  readonly killEveryMs: number;
  readonly pauseMs: number;
  readonly once: readonly ScheduledEvent[];
  /** Called every few seconds: the remote drifting. */
  readonly drift: () => void;
  readonly note: (line: string) => void;
}

export interface RunningFaults {
  /** When the SIGSTOP began and ended (ms since the epoch). */
  readonly pause: { start: number; end: number };
  readonly kills: number;
  readonly failures: string[];
  /** Ends every fault (continuing the paused daemon) and waits for actions in progress. */
  stop(): Promise<void>;
}

export function startFaults(plan: FaultPlan): RunningFaults {
  const { sim } = plan;
  const timers: NodeJS.Timeout[] = [];
  const pending = new Set<Promise<void>>();
  const state = { pause: { start: NaN, end: NaN }, kills: 0, failures: [] as string[] };
  const act = (what: string, work: () => Promise<void> | void) => {
    const p = Promise.resolve()
      .then(work)
      .then(
        () => plan.note(what),
        (error: unknown) => {
          state.failures.push(`${what}: ${String(error)}`);
        },
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  const every = (ms: number, fn: () => void) => timers.push(setInterval(fn, ms));
  const after = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms));

  sim.faults.set({ p5xx: 0.1, statuses5xx: [500, 502, 503], p504OnDelete: 0.5 });
  every(12_000, () => {
    sim.faults.set({ p429: 0.6, retryAfterSeconds: 2 });
    after(2_000, () => sim.faults.set({ p429: 0 }));
  });
  every(7_000, () => {
    sim.faults.set({ latencyMs: 200 });
    after(1_500, () => sim.faults.set({ latencyMs: 0 }));
  });
  let killing = false;
  every(plan.killEveryMs, () => {
    if (killing) return;
    killing = true;
    act(`SIGKILL + restart ${plan.killed.name}`, async () => {
      await plan.killed.killAndRestart().finally(() => (killing = false));
      state.kills++;
    });
  });
  after(plan.durationMs * 0.15, () => {
    state.pause.start = Date.now();
    act(`SIGSTOP ${plan.paused.name} for ${plan.pauseMs / 1000} s`, () => plan.paused.pause());
    after(plan.pauseMs, () => {
      plan.paused.resume();
      state.pause.end = Date.now();
      plan.note(`SIGCONT ${plan.paused.name}`);
    });
  });
  for (const event of plan.once)
    after(plan.durationMs * event.at, () => act(event.what, event.run));
  every(3_000, plan.drift);

  return {
    pause: state.pause,
    get kills() {
      return state.kills;
    },
    failures: state.failures,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      await Promise.all([...pending]);
      if (plan.paused.stopped) {
        plan.paused.resume();
        state.pause.end = Date.now();
      }
      sim.faults.reset();
    },
  };
}
