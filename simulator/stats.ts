/**
 * What the simulator saw: calls per route template and status, mints, creations, and the two
 * concurrency measures tests assert on (overlapping mutations of one workspace, peak in-flight).
 */

const MAX_ARRIVALS = 2_000_000;

/** A plain copy of the counters, safe to keep, compare or print. */
export interface SimStatsSnapshot {
  /** `'GET /api/v1/workspaces'` → `{ '200': 51, '429': 2 }`; ids appear as `{id}`. */
  readonly byRoute: Record<string, Record<string, number>>;
  /** Application tokens issued. */
  readonly tokenMints: number;
  /** Scoped tokens issued (both path families). */
  readonly scopedMints: number;
  /** Workspaces created through the API (get-or-create); not `store.create` or `store.seed`. */
  readonly workspacesCreated: number;
  /**
   * Times a PUT or DELETE of a workspace arrived while another PUT or DELETE of the same
   * workspace was still being served. Several correct daemons keep this at 0.
   */
  readonly mutatingOverlaps: number;
  /** Requests being served right now. */
  readonly inFlight: number;
  /** The most requests served at once since the start or the last reset. */
  readonly inFlightMax: number;
}

/** The simulator's counters, as tests read them. */
export interface SimStats extends SimStatsSnapshot {
  /**
   * The most requests that arrived within any `windowMs` (a sliding window over arrival times,
   * half-open: arrivals exactly `windowMs` apart are in different windows), since the last reset.
   */
  busiestWindow(windowMs: number): number;
  /** Arrival times (`performance.now()`, ms) of the requests since the last reset, oldest first. */
  arrivals(): readonly number[];
  /** How many calls of `route` answered `status`, or with any status when it is omitted. */
  count(route: string, status?: number): number;
  /**
   * Calls `listener` with each request's route as it arrives, before it is served: a test's
   * change made there is what the request finds (a fault at an exact moment). Returns the
   * unsubscribe.
   */
  onArrival(listener: (route: string) => void): () => void;
  /**
   * Calls `listener` with each answer's route and status as it is counted, before it is sent: a
   * test's change made there lands before the client can make its next call. Returns the
   * unsubscribe.
   */
  onAnswer(listener: (route: string, status: number) => void): () => void;
  /** Zeroes every counter (calls still in flight stay counted as in flight). */
  reset(): void;
  snapshot(): SimStatsSnapshot;
}

/** The counters plus the hooks the server calls; only {@link SimStats} is handed out. */
export class StatsRecorder implements SimStats {
  #byRoute = new Map<string, Map<number, number>>();
  #inFlightByWorkspace = new Map<string, number>();
  tokenMints = 0;
  scopedMints = 0;
  workspacesCreated = 0;
  mutatingOverlaps = 0;
  inFlight = 0;
  inFlightMax = 0;
  /** Bounded, so a long-running simulator (the demo) does not grow without end. */
  #arrivals: number[] = [];

  get byRoute(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [route, statuses] of this.#byRoute) {
      const counts: Record<string, number> = {};
      for (const [status, n] of statuses) counts[String(status)] = n;
      out[route] = counts;
    }
    return out;
  }

  count(route: string, status?: number): number {
    const statuses = this.#byRoute.get(route);
    if (!statuses) return 0;
    if (status !== undefined) return statuses.get(status) ?? 0;
    let total = 0;
    for (const n of statuses.values()) total += n;
    return total;
  }

  reset(): void {
    this.#byRoute = new Map();
    this.tokenMints = 0;
    this.scopedMints = 0;
    this.workspacesCreated = 0;
    this.mutatingOverlaps = 0;
    this.inFlightMax = this.inFlight;
    this.#arrivals = [];
  }

  arrivals(): readonly number[] {
    return this.#arrivals;
  }

  busiestWindow(windowMs: number): number {
    const times = this.#arrivals;
    let worst = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[i] as number) - (times[j] as number) >= windowMs) j++;
      worst = Math.max(worst, i - j + 1);
    }
    return worst;
  }

  snapshot(): SimStatsSnapshot {
    return {
      byRoute: this.byRoute,
      tokenMints: this.tokenMints,
      scopedMints: this.scopedMints,
      workspacesCreated: this.workspacesCreated,
      mutatingOverlaps: this.mutatingOverlaps,
      inFlight: this.inFlight,
      inFlightMax: this.inFlightMax,
    };
  }

  /** A request arrived. */
  begin(): void {
    if (this.#arrivals.length >= MAX_ARRIVALS) this.#arrivals.splice(0, MAX_ARRIVALS / 2);
    this.#arrivals.push(performance.now());
    this.inFlight++;
    if (this.inFlight > this.inFlightMax) this.inFlightMax = this.inFlight;
  }

  /** A request was answered (or given up). */
  end(): void {
    this.inFlight--;
  }

  /** A PUT or DELETE of `workspaceId` arrived; counts an overlap when another is in flight. */
  beginMutation(workspaceId: string): void {
    const n = this.#inFlightByWorkspace.get(workspaceId) ?? 0;
    if (n > 0) this.mutatingOverlaps++;
    this.#inFlightByWorkspace.set(workspaceId, n + 1);
  }

  /** That mutation was answered. */
  endMutation(workspaceId: string): void {
    const n = this.#inFlightByWorkspace.get(workspaceId) ?? 1;
    if (n <= 1) this.#inFlightByWorkspace.delete(workspaceId);
    else this.#inFlightByWorkspace.set(workspaceId, n - 1);
  }

  readonly #arrivalListeners = new Set<(route: string) => void>();
  readonly #answerListeners = new Set<(route: string, status: number) => void>();

  onArrival(listener: (route: string) => void): () => void {
    this.#arrivalListeners.add(listener);
    return () => this.#arrivalListeners.delete(listener);
  }

  onAnswer(listener: (route: string, status: number) => void): () => void {
    this.#answerListeners.add(listener);
    return () => this.#answerListeners.delete(listener);
  }

  /** A request of `route` arrived. */
  arrived(route: string): void {
    for (const listener of this.#arrivalListeners) listener(route);
  }

  /** One answer of `route` with `status`. */
  record(route: string, status: number): void {
    for (const listener of this.#answerListeners) listener(route, status);
    let statuses = this.#byRoute.get(route);
    if (!statuses) {
      statuses = new Map();
      this.#byRoute.set(route, statuses);
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
}
