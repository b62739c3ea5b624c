/**
 * The Agent Engine client over real HTTP against the simulator (`simulator/`). Every log line
 * of the file's run (pino at trace) and every message thrown is kept, and checked at the end for
 * the client secret and every token the simulator issued (recorded off the wire).
 */

import { pino } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';

import { type AgentEngineOptions, createAgentEngine } from '../../src/agent-engine/client.js';
import { InMemoryRateLimiter } from '../../src/agent-engine/rate-limiter.js';
import type { CallObserver } from '../../src/agent-engine/types.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MINUTE, SECOND } from '../../src/lib/duration.js';
import { AuthError, PermanentError, RetryableError } from '../../src/lib/errors.js';
import { startSimulator } from '../../simulator/index.js';
import { logLines } from '../support/logLines.js';

const SECRET = 'demo-client-secret';
const { lines, destination } = logLines();
const logger = pino({ level: 'trace' }, destination);
/** Every token the simulator handed out, read off the wire. */
const issued = new Set<string>();
/** Every message the client threw in this file. */
const thrown: string[] = [];
const closers: (() => Promise<unknown>)[] = [];

/**
 * Wraps a (new-API) dispatch handler to read the `access_token` / `token` of answers on the token
 * routes as they pass, so the leak check knows every token the client was given.
 */
function recordTokens(inner: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler {
  const chunks: Buffer[] = [];
  return {
    onRequestStart: (controller, context) => inner.onRequestStart?.(controller, context),
    onResponseStart: (controller, status, headers, message) =>
      inner.onResponseStart?.(controller, status, headers, message),
    onResponseData: (controller, chunk) => {
      chunks.push(chunk);
      inner.onResponseData?.(controller, chunk);
    },
    onResponseEnd: (controller, trailers) => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
        for (const key of ['access_token', 'token']) {
          if (typeof body[key] === 'string') issued.add(body[key]);
        }
      } catch {
        // Not JSON: nothing was issued.
      }
      inner.onResponseEnd?.(controller, trailers);
    },
    onResponseError: (controller, error) => inner.onResponseError?.(controller, error),
  };
}

const recording = new Agent({ connections: 16 }).compose(
  (dispatch) => (opts, handler) =>
    String(opts.path).includes('/account/applications/')
      ? dispatch(opts, recordTokens(handler))
      : dispatch(opts, handler),
);

interface SeenCall {
  route: string;
  status: number | 'error';
  startedAt: number;
  endedAt: number;
}

type Sim = Awaited<ReturnType<typeof startSimulator>>;

async function simulator(options: Parameters<typeof startSimulator>[0] = {}): Promise<Sim> {
  const sim = await startSimulator(options);
  closers.push(() => sim.close());
  return sim;
}

/** A client on `sim` over the recording dispatcher, with what its observer saw. */
function clientOf(
  sim: Sim,
  extra: Partial<AgentEngineOptions> = {},
  onCall?: (c: SeenCall) => void,
) {
  const calls: SeenCall[] = [];
  let mints = 0;
  const observer: CallObserver = {
    onCall: ({ route, status, durationMs }) => {
      const endedAt = performance.now();
      const call = { route, status, startedAt: endedAt - durationMs, endedAt };
      calls.push(call);
      onCall?.(call);
    },
    onTokenMint: () => {
      mints += 1;
    },
  };
  const client = createAgentEngine({
    baseUrl: sim.url,
    clientId: 'demo-client-id',
    clientSecret: SECRET,
    dispatcher: recording,
    logger,
    observer,
    ...extra,
  });
  return { client, calls, mints: () => mints };
}

/** Runs `fn`, keeping the message of anything it throws for the final leak check. */
async function failure(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    thrown.push((error as Error).message);
    return error as Error;
  }
  throw new Error('expected a failure');
}

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await recording.close();
  // The leak check covers the whole file: every log line and every thrown message.
  const log = lines.join('');
  expect(issued.size).toBeGreaterThan(5);
  expect(log).toContain('agent engine call');
  for (const text of [log, ...thrown]) {
    expect(text).not.toContain(SECRET);
    for (const token of issued) expect(text).not.toContain(token);
  }
});

describe('tokens over real HTTP', () => {
  it('lists 5,000 workspaces with a 1 s token and no failed call; mints stay bounded', async () => {
    const sim = await simulator({ appTokenTtlMs: SECOND });
    sim.store.seed(5000 - sim.store.count(), (i) => `customer ${i}`);
    sim.faults.set({ latencyMs: 2 });
    const skewMs = 200;
    // A rate limit stretches the listing over a few token lifetimes, so refreshes happen mid-list.
    const { client, calls, mints } = clientOf(sim, {
      refreshSkewMs: skewMs,
      rateLimiter: new InMemoryRateLimiter({ max: 5, perMs: 250 }),
    });
    const started = performance.now();
    const ids = new Set<string>();
    for await (const page of client.listWorkspaces()) for (const w of page) ids.add(w.id);
    const durationMs = performance.now() - started;

    expect(ids.size).toBe(5000);
    expect(calls.filter((c) => c.status !== 200)).toEqual([]);
    const bound = Math.ceil(durationMs / (SECOND - skewMs)) + 1;
    console.info(
      `5,000 listed in ${Math.round(durationMs)} ms over ${calls.length} calls: ` +
        `${mints()} token mints (bound ${bound}; simulator counted ${sim.stats.tokenMints})`,
    );
    expect(mints()).toBeGreaterThanOrEqual(2);
    expect(mints()).toBeLessThanOrEqual(bound);
    expect(sim.stats.tokenMints).toBe(mints());
  });

  it('50 concurrent calls right as the token expires cause exactly one mint', async () => {
    const clock = new ManualClock();
    const sim = await simulator({ clock });
    const { id } = sim.store.create('expiring');
    const { client, calls, mints } = clientOf(sim, { clock, refreshSkewMs: MINUTE });
    await client.getWorkspace(id);
    expect(mints()).toBe(1);
    clock.advance(15 * MINUTE - MINUTE); // the refresh point: 60 s before the 900 s expiry
    const before = sim.stats.tokenMints;
    const answers = await Promise.all(Array.from({ length: 50 }, () => client.getWorkspace(id)));
    expect(answers.every((w) => w?.id === id)).toBe(true);
    expect(mints()).toBe(2);
    expect(sim.stats.tokenMints - before).toBe(1);
    expect(calls.filter((c) => c.status === 401)).toEqual([]);
  });

  it('a revoked token meets a 401, is refreshed once, and the call succeeds', async () => {
    const sim = await simulator();
    const { id } = sim.store.create('revoked');
    const { client, calls, mints } = clientOf(sim);
    await client.getWorkspace(id);
    sim.faults.revokeAllTokens();
    await expect(client.getWorkspace(id)).resolves.toMatchObject({ id });
    expect(mints()).toBe(2);
    expect(calls.map((c) => c.status)).toEqual([200, 200, 401, 200, 200]);
  });

  it('bad credentials are an AuthError that does not quote the secret', async () => {
    const sim = await simulator({ clientSecret: 'another-secret-entirely' });
    const { client } = clientOf(sim);
    const error = await failure(() => client.getWorkspace('x'));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(/^POST \/account\/applications\/token → 40[13]/);
  });
});

describe('failures over real HTTP', () => {
  const listAll = async (client: ReturnType<typeof clientOf>['client']) => {
    let n = 0;
    for await (const page of client.listWorkspaces()) n += page.length;
    return n;
  };

  it('a listing page answered 429 with Retry-After: 1 waits it out, never retries sooner', async () => {
    const sim = await simulator();
    sim.faults.set({ p429: 1, retryAfterSeconds: 1 });
    const { client, calls } = clientOf(sim, {}, (call) => {
      // Exactly one 429: the fault is lifted as soon as the client has seen it.
      if (call.status === 429) sim.faults.reset();
    });
    await expect(listAll(client)).resolves.toBe(1); // the organization's `default`
    const api = calls.filter((c) => c.route === 'GET /workspaces');
    expect(api.map((c) => c.status)).toEqual([429, 200]);
    const [first, second] = api as [SeenCall, SeenCall];
    const gapMs = second.startedAt - first.endedAt;
    console.info(`429 Retry-After: 1 → next attempt ${Math.round(gapMs)} ms later`);
    expect(gapMs).toBeGreaterThanOrEqual(1000);
    expect(sim.stats.count('GET /api/v1/workspaces', 429)).toBe(1);
    expect(sim.stats.count('GET /api/v1/workspaces')).toBe(2);
  });

  it('a burst of 503s on a listing page is retried with jittered backoff and succeeds', async () => {
    const sim = await simulator();
    sim.faults.set({ p5xx: 1, statuses5xx: [503] });
    let seen503 = 0;
    const listingRetry = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };
    const { client, calls } = clientOf(sim, { listingRetry }, (call) => {
      if (call.status === 503 && ++seen503 === 3) sim.faults.reset();
    });
    await expect(listAll(client)).resolves.toBe(1);
    const api = calls.filter((c) => c.route === 'GET /workspaces');
    expect(api.map((c) => c.status)).toEqual([503, 503, 503, 200]);
    const gaps = api.slice(1).map((c, i) => c.startedAt - (api[i] as SeenCall).endedAt);
    console.info(`503 burst: backoff gaps ${gaps.map((g) => Math.round(g)).join(', ')} ms`);
    // Full jitter: each gap under its cap (200, 400, 800 ms), plus scheduling slack.
    gaps.forEach((gap, i) => expect(gap).toBeLessThan(200 * 2 ** i + 100));
    expect(sim.stats.count('GET /api/v1/workspaces', 503)).toBe(3);
  });

  it('a sync call answered 503 or 429 is sent once: its job retries it, not the client', async () => {
    const sim = await simulator();
    const { id } = sim.store.create('once');
    const { client } = clientOf(sim);
    sim.faults.set({ p5xx: 1, statuses5xx: [503] });
    expect(await failure(() => client.getWorkspace(id))).toBeInstanceOf(RetryableError);
    sim.faults.set({ p5xx: 0, p429: 1, retryAfterSeconds: 1 });
    const limited = await failure(() => client.updateWorkspace(id, { name: 'twice' }));
    expect((limited as RetryableError).retryAfterMs).toBe(1000);
    expect(sim.stats.count('GET /api/v1/workspaces/{id}')).toBe(1);
    expect(sim.stats.count('PUT /api/v1/workspaces/{id}')).toBe(1);
  });

  it('an answer slower than the request timeout is a retryable timeout, and the call ends then', async () => {
    const sim = await simulator();
    const { id } = sim.store.create('slow');
    const { client } = clientOf(sim, { requestTimeoutMs: 150 });
    sim.faults.set({ latencyMs: 2_000 });
    const started = performance.now();
    const error = await failure(() => client.getWorkspace(id));
    const tookMs = performance.now() - started;
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toBe('GET /workspaces/{id} → timed out after 150 ms');
    expect(tookMs).toBeGreaterThanOrEqual(140);
    expect(tookMs).toBeLessThan(1_500);
  });

  it("the caller's abort ends a call in flight as aborted, not as a timeout", async () => {
    const sim = await simulator();
    const { id } = sim.store.create('abandoned');
    const { client } = clientOf(sim, { requestTimeoutMs: 5_000 });
    sim.faults.set({ latencyMs: 2_000 });
    const controller = new AbortController();
    const pending = failure(() => client.getWorkspace(id, controller.signal));
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    const error = await pending;
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toBe('agent engine call aborted: shutting down');
  });

  it("one abort of the caller's signal ends every call in flight under it, and only those", async () => {
    const sim = await simulator();
    const a = sim.store.create('first');
    const b = sim.store.create('second');
    const { client } = clientOf(sim, { requestTimeoutMs: 5_000 });
    await client.getWorkspace(a.id); // the token is minted before the calls that are abandoned
    sim.faults.set({ latencyMs: 3_000 });
    const controller = new AbortController();
    const other = new AbortController();
    const started = performance.now();
    const pending = [a.id, b.id].map((id) =>
      failure(() => client.getWorkspace(id, controller.signal)),
    );
    const untouched = client.getWorkspace(b.id, other.signal);
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    for (const error of await Promise.all(pending)) {
      expect(error.message).toBe('agent engine call aborted: shutting down');
    }
    expect(performance.now() - started).toBeLessThan(2_500); // not the answer's 3 s
    await expect(untouched).resolves.toMatchObject({ id: b.id, name: 'second' });
  });

  it('a permanent 4xx is not retried: exactly one call', async () => {
    const sim = await simulator();
    const a = sim.store.create('Taken A');
    sim.store.create('Taken B');
    const { client, calls } = clientOf(sim);
    const error = await failure(() => client.updateWorkspace(a.id, { name: 'Taken B' }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/^PUT \/workspaces\/\{id\} → 4\d\d: /);
    expect(calls.filter((c) => c.route === 'PUT /workspaces/{id}')).toHaveLength(1);
    expect(sim.stats.count('PUT /api/v1/workspaces/{id}')).toBe(1);
    console.info(`permanent failure: ${error.message}`);
  });
});

describe('workspaces over real HTTP', () => {
  it('create-by-name is get-or-create; after a rename the old name makes a NEW workspace', async () => {
    const sim = await simulator();
    const { client } = clientOf(sim);
    const first = await client.createWorkspace('Acme Corp');
    const again = await client.createWorkspace('Acme Corp');
    expect(again.id).toBe(first.id);
    await client.updateWorkspace(first.id, { name: 'Acme Inc' });
    const trap = await client.createWorkspace('Acme Corp');
    expect(trap.id).not.toBe(first.id);
    expect((await client.getWorkspace(first.id))?.name).toBe('Acme Inc');
  });

  it('get, update, delete; a second delete (404) is success and get is undefined', async () => {
    const sim = await simulator();
    const { id } = sim.store.create('to delete');
    const { client } = clientOf(sim);
    const updated = await client.updateWorkspace(id, { status: 'inactive' });
    expect(updated).toMatchObject({ id, name: 'to delete', status: 'inactive', tombstone: false });
    await client.deleteWorkspace(id);
    await client.deleteWorkspace(id);
    expect(await client.getWorkspace(id)).toBeUndefined();
  });

  it('a delete answered 504 (done in the background) is retried once and the 404 is success', async () => {
    const sim = await simulator();
    const { id } = sim.store.create('slow delete');
    sim.faults.set({ p504OnDelete: 1 });
    const { client, calls } = clientOf(sim);
    await expect(client.deleteWorkspace(id)).resolves.toBeUndefined();
    const deletes = calls.filter((c) => c.route === 'DELETE /workspaces/{id}');
    expect(deletes.map((c) => c.status)).toEqual([504, 404]);
    expect(sim.store.get(id)).toBeUndefined();
  });

  it('a list page that keeps failing throws: the listing is never quietly short', async () => {
    const sim = await simulator();
    sim.store.seed(250, (i) => `paged ${i}`);
    sim.faults.set({ failPageAtOffsets: [100] });
    const { client, calls } = clientOf(sim, { listingRetry: { attempts: 3, baseDelayMs: 10 } });
    const pages: number[] = [];
    const error = await failure(async () => {
      for await (const page of client.listWorkspaces()) pages.push(page.length);
    });
    expect(error.name).toBe('RetryableError');
    expect(error.message).toMatch(/^GET \/workspaces → 500/);
    expect(pages).toEqual([100]);
    expect(calls.filter((c) => c.status === 500)).toHaveLength(3);
  });

  it('lists with filters, and refuses a next link to another host', async () => {
    const sim = await simulator();
    for (let i = 0; i < 150; i += 1) sim.store.create(`Filter ${i}`, i % 2 ? 'inactive' : 'active');
    const { client } = clientOf(sim);
    let count = 0;
    for await (const page of client.listWorkspaces({
      status: 'inactive',
      nameContains: 'filter',
    })) {
      count += page.length;
      expect(page.every((w) => w.status === 'inactive')).toBe(true);
    }
    expect(count).toBe(75);
    // The simulator writes `next` on the host the client addressed (as the real API does), so a
    // Host header rewritten on the way (a misconfigured proxy) makes it point elsewhere.
    const elsewhere = recording.compose(
      (dispatch) => (opts, handler) =>
        dispatch(
          { ...opts, headers: { ...(opts.headers as object), host: 'evil.example' } },
          handler,
        ),
    );
    const other = clientOf(sim, { dispatcher: elsewhere });
    const pages: number[] = [];
    const error = await failure(async () => {
      for await (const page of other.client.listWorkspaces()) pages.push(page.length);
    });
    expect(pages).toEqual([100]);
    expect(other.calls.filter((c) => c.route === 'GET /workspaces')).toHaveLength(1);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/refused next link/);
  });
});
