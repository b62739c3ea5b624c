/**
 * The Agent Engine simulator: the token and workspace API of `docs/agent-engine-api.md` over
 * real HTTP (`node:http`, keep-alive), backed by an in-memory organization that tests change
 * directly, with faults to inject and stats to assert on. Tests, the demo, benchmarks and
 * docker-compose (`npm run sim`) all use it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type Clock, systemClock } from '../src/lib/clock.js';
import { MINUTE } from '../src/lib/duration.js';
import type { SimParts } from './context.js';
import { FaultInjector, type Faults } from './faults.js';
import { Journal } from './journal.js';
import { createRequestListener, Sleeps } from './server.js';
import { type SimStats, StatsRecorder } from './stats.js';
import { WorkspaceStore } from './store.js';
import { TokenIssuer } from './tokens.js';
import { isUuid } from './validate.js';

export type { FaultSettings, Faults } from './faults.js';
export type { ExpiredCall, MintRecord, MutationRecord } from './journal.js';
export { Journal } from './journal.js';
export type { SimStats, SimStatsSnapshot } from './stats.js';
export type { ListFilter, StorePage, WorkspacePatch } from './store.js';
export { DEFAULT_NAME, StoreError, WorkspaceStore } from './store.js';
export type { SimWorkspace } from './workspace.js';
export { workspaceJson } from './workspace.js';

/** How to start a simulator; every field has a default. */
export interface SimulatorOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0: an ephemeral port (read the real one from `url`). */
  port?: number;
  /** Default `demo-client-id`. */
  clientId?: string;
  /** Default `demo-client-secret`. */
  clientSecret?: string;
  /** Application token lifetime; default 15 min. */
  appTokenTtlMs?: number;
  /** Scoped token lifetime; default 20 min. */
  scopedTokenTtlMs?: number;
  /** The organization's id; default {@link DEFAULT_ORGANIZATION_ID}. */
  organizationId?: string;
  /** Reads token expiry and stamps workspaces; default the system clock. */
  clock?: Clock;
}

/** A running simulator. */
export interface Simulator {
  /** `http://HOST:PORT`, without `/api/v1`. */
  readonly url: string;
  readonly organizationId: string;
  /** The organization's workspaces, to read and change directly (synchronously). */
  readonly store: WorkspaceStore;
  readonly faults: Faults;
  readonly stats: SimStats;
  /** Every mint, API change, token and expired-token call, in order (see journal.ts). */
  readonly journal: Journal;
  /** Stops listening and closes every connection, keep-alive ones too; safe to call twice. */
  close(): Promise<void>;
}

/** The organization id a simulator has unless told otherwise. */
export const DEFAULT_ORGANIZATION_ID = '7d3c1b52-9e4f-4a8b-b6d0-2f5e8c9a1d34';

/** Starts a simulator; it accepts requests once this resolves. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const clock = options.clock ?? systemClock;
  const organizationId = (options.organizationId ?? DEFAULT_ORGANIZATION_ID).toLowerCase();
  if (!isUuid(organizationId))
    throw new RangeError(`organizationId must be a uuid: ${organizationId}`);
  const journal = new Journal();
  const tokens = new TokenIssuer(clock, (token) => journal.tokens.push(token));
  const parts: SimParts = {
    store: new WorkspaceStore(organizationId, clock),
    tokens,
    stats: new StatsRecorder(),
    faults: new FaultInjector(() => tokens.revokeAll()),
    journal,
    clock,
    organizationId,
    clientId: options.clientId ?? 'demo-client-id',
    clientSecret: options.clientSecret ?? 'demo-client-secret',
    appTokenTtlMs: options.appTokenTtlMs ?? 15 * MINUTE,
    scopedTokenTtlMs: options.scopedTokenTtlMs ?? 20 * MINUTE,
  };
  const host = options.host ?? '127.0.0.1';
  const sleeps = new Sleeps();
  let url = '';
  const server = createServer(
    { keepAlive: true },
    createRequestListener(parts, () => url, sleeps),
  );
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    organizationId,
    store: parts.store,
    faults: parts.faults,
    stats: parts.stats,
    journal,
    close() {
      closing ??= new Promise<void>((resolve) => {
        sleeps.cancelAll();
        server.close(() => resolve());
        // close() alone waits for idle keep-alive sockets to time out; end them now.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
