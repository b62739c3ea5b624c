/**
 * What a route handler is given: the simulator's parts (shared by every request) and the request
 * already routed, authenticated and parsed. Handlers are synchronous, so each one changes the store
 * atomically: get-or-create cannot race with itself.
 */
import type { Clock } from '../src/lib/clock.js';
import type { FaultInjector } from './faults.js';
import type { Journal } from './journal.js';
import type { StatsRecorder } from './stats.js';
import type { WorkspaceStore } from './store.js';
import type { TokenGrant, TokenIssuer } from './tokens.js';

/** The simulator's parts and settings. */
export interface SimParts {
  readonly store: WorkspaceStore;
  readonly tokens: TokenIssuer;
  readonly stats: StatsRecorder;
  readonly faults: FaultInjector;
  readonly journal: Journal;
  readonly clock: Clock;
  readonly organizationId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly appTokenTtlMs: number;
  readonly scopedTokenTtlMs: number;
}

/** One request, as its handler sees it. */
export interface RequestContext {
  readonly sim: SimParts;
  /** The `{id}` path parameter, when the route has one (already checked to be a uuid). */
  readonly id: string | undefined;
  readonly query: URLSearchParams;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
  /** `http://host:port` as the client addressed us: `next` links stay on the client's host. */
  readonly baseUrl: string;
  /** The verified token's grant; undefined on the token endpoint. */
  readonly grant: TokenGrant | undefined;
  /** Whether faults apply to this request (route filter, token endpoint). */
  readonly faultsApply: boolean;
}
