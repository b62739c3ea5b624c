import pg from 'pg';

import { inCallersContext, traceQueries } from '../tracing/spans.js';

/**
 * The one Postgres handle: a pg pool (traced when tracing is on). Queries live in `src/sql/`:
 * plain SQL, or drizzle's typed queries over the same pool (`database.ts`) where those read
 * better; the caller registers `pool.end()` for shutdown.
 */
export function createPool(
  url: string,
  options: { max?: number; applicationName?: string; traceQueries?: boolean } = {},
): pg.Pool {
  const Pool = options.traceQueries ? TracedPool : pg.Pool;
  const pool = new Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'customer-sync',
    connectionTimeoutMillis: 5_000,
    // A lost peer (VM gone, partition) is noticed by TCP instead of a query hanging for hours.
    keepAlive: true,
    // A daemon stopped inside a transaction (SIGSTOP) must not hold its row and advisory locks
    // for as long as the server keeps the session: the server ends such a session after a minute.
    idle_in_transaction_session_timeout: 60_000,
    ...(options.traceQueries ? { Client: TracedClient } : {}),
  });
  // An idle client that loses its connection emits here; the next query simply gets another.
  pool.on('error', () => {});
  // A checked-out client left idle (a sweep's lock or cursor, a lock held across an API call)
  // emits the loss on itself, where no listener would kill the process. Its next query fails
  // instead, and the pool drops it when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * A pg client whose queries are spans, and a pool that hands clients out in the caller's trace.
 * Hand-made rather than @opentelemetry/instrumentation-pg: that one patches `pg` as it is loaded,
 * which under ESM needs a loader hook (`--import`) registered before the first import; a pool
 * option needs nothing.
 */
class TracedClient extends pg.Client {}
(TracedClient.prototype as { query: unknown }).query = traceQueries(
  pg.Client.prototype.query as (...args: unknown[]) => unknown,
);
class TracedPool extends pg.Pool {}
(TracedPool.prototype as { connect: unknown }).connect = inCallersContext(
  pg.Pool.prototype.connect as (...args: unknown[]) => unknown,
);
