/**
 * The setup every webhook and HTTP suite shares, registered as the file's hooks: a database
 * cloned before its tests, emptied before each and dropped after; a manual clock set before each;
 * and, for `webhookSuite`, one server over that database with the file's secrets, whose recording
 * queue is cleared before each test and which is closed after the file. The handles returned
 * reach the live objects once the file's `beforeAll` has run (inside tests and their helpers).
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { type Signers, signersFor, type WebhookSecrets } from './webhookSecrets.js';
import { startTestServer, type TestServer, type TestServerOptions } from './webhookServer.js';

export interface DatabaseSuiteOptions {
  /** The clock's time before each test; by default the real clock's current whole second. */
  readonly now?: number;
}

export interface DatabaseSuite {
  readonly database: TestDatabase;
  readonly clock: ManualClock;
  /** A server of the test's own over the suite's database and clock; `await using` closes it. */
  startServer(options?: Partial<TestServerOptions>): Promise<TestServer>;
}

export interface WebhookSuiteOptions extends DatabaseSuiteOptions {
  readonly secrets?: WebhookSecrets;
  /** More variables, e.g. BILLING_CUSTOMER_ID_KEY. */
  readonly env?: Record<string, string>;
  /** Empty the captured logs before each test too (they are kept across the file otherwise). */
  readonly resetLogs?: boolean;
}

export interface WebhookSuite extends DatabaseSuite {
  /** The suite's server: `server.post(route, body, headers)`, its queue, logs and metrics. */
  readonly server: TestServer;
  /** Each route's signer with the suite's secrets. */
  readonly signers: Signers;
}

/** A stand-in for an object made in `beforeAll`: each property is read from the live object. */
function late<T extends object>(what: string, current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_target, key) {
      const live = current();
      if (!live) throw new Error(`${what} is made in beforeAll: use it inside a test`);
      const value: unknown = Reflect.get(live, key, live);
      return typeof value === 'function' ? value.bind(live) : value;
    },
  });
}

const wholeSecondNow = () => Math.floor(Date.now() / 1000) * 1000;

/** A database (and clock) for the file's tests, with servers started per test. */
export function databaseSuite(options: DatabaseSuiteOptions = {}): DatabaseSuite {
  let database: TestDatabase | undefined;
  const clock = new ManualClock(options.now);
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    await database?.truncate();
    clock.set(options.now ?? wholeSecondNow());
  });
  const live = late('the test database', () => database);
  return {
    database: live,
    clock,
    startServer: (more = {}) =>
      startTestServer({ pool: live.pool, databaseUrl: live.url, clock, ...more }),
  };
}

/** A database, a clock and one server with `secrets` for the file's tests. */
export function webhookSuite(options: WebhookSuiteOptions = {}): WebhookSuite {
  const suite = databaseSuite(options);
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await suite.startServer({
      ...(options.secrets ? { secrets: options.secrets } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
  });
  afterAll(async () => {
    await server?.server.close();
  });
  beforeEach(() => {
    if (!server) return;
    server.queue.calls.length = 0;
    server.queue.failing = false;
    if (options.resetLogs) server.logs.length = 0;
  });
  return {
    ...suite,
    server: late('the test server', () => server),
    signers: signersFor(options.secrets ?? {}),
  };
}
