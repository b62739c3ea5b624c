/**
 * The client against undici's MockAgent: exact-moment faults the simulator cannot stage on cue
 * (a 401 on one call, a 504 then a 404, a malformed 200, a hung request). Behaviour over real HTTP
 * is in `test/integration/agent-engine.test.ts`. The retry budget (`src/agent-engine/retry.ts`):
 * a sync's calls make one attempt, listing pages retry in the call.
 */

import { pino } from 'pino';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { createAgentEngine, type AgentEngineOptions } from '../../src/agent-engine/client.js';
import type { CallObserver } from '../../src/agent-engine/types.js';
import { ManualClock } from '../../src/lib/clock.js';
import { AuthError, PermanentError, RetryableError } from '../../src/lib/errors.js';
import { logLines } from '../support/logLines.js';
import { waitFor } from '../support/wait.js';

const ORIGIN = 'http://ae.test';
const SECRET = 'client-secret-do-not-print';
const ORG = '11111111-1111-4111-8111-111111111111';
const TOKEN_PATH = '/api/v1/account/applications/token';

const workspace = (id: string, name = `ws ${id}`) => ({
  id,
  name,
  organization_id: ORG,
  status: 'active',
  cache_enabled: null,
  tombstone: false,
  created_at: '2026-04-20T21:57:20.991787Z',
  updated_at: '2026-04-20T21:57:20.991787Z',
});

interface Seen {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

const agents: MockAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close();
});

/** A MockAgent with a persistent token endpoint, a client on it, and what both saw. */
function setup(extra: Partial<AgentEngineOptions> = {}, tokenTtlSeconds = 900) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agents.push(agent);
  const pool = agent.get(ORIGIN);
  let mints = 0;
  pool
    .intercept({ path: TOKEN_PATH, method: 'POST' })
    .reply(() => {
      mints += 1;
      const body = {
        access_token: `app-token-${mints}-xxxxxxxx`,
        token_type: 'bearer',
        expires_in: tokenTtlSeconds,
        organization_id: ORG,
      };
      return { statusCode: 200, data: body };
    })
    .persist();
  const { lines, destination } = logLines();
  const logger = pino({ level: 'trace' }, destination);
  const calls: { route: string; status: number | 'error' }[] = [];
  const observer: CallObserver = {
    onCall: (c) => calls.push({ route: c.route, status: c.status }),
  };
  const client = createAgentEngine({
    baseUrl: ORIGIN,
    clientId: 'id',
    clientSecret: SECRET,
    dispatcher: agent,
    logger,
    observer,
    listingRetry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });
  const seen: Seen[] = [];
  /** Replies in order from `replies`, recording each request. */
  const answer = (
    method: string,
    path: string,
    replies: { status: number; body?: unknown; headers?: Record<string, string> }[],
  ) => {
    for (const r of replies) {
      pool.intercept({ path: (p) => p.split('?')[0] === path, method }).reply((opts) => {
        seen.push({
          path: opts.path,
          method: opts.method,
          headers: opts.headers as Record<string, string>,
          body: typeof opts.body === 'string' ? JSON.parse(opts.body) : undefined,
        });
        return {
          statusCode: r.status,
          data: typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {}),
          responseOptions: { headers: r.headers ?? {} },
        };
      });
    }
  };
  return { agent, pool, client, answer, seen, calls, lines, mints: () => mints };
}

describe('tokens', () => {
  it('mints once, sends the bearer and the organization from the token response', async () => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces/a', [{ status: 200, body: workspace('a') }]);
    t.answer('GET', '/api/v1/workspaces/b', [{ status: 200, body: workspace('b') }]);
    await t.client.getWorkspace('a');
    await t.client.getWorkspace('b');
    expect(t.mints()).toBe(1);
    expect(t.seen[1]?.headers.authorization).toBe('Bearer app-token-1-xxxxxxxx');
    expect(t.seen[1]?.headers['x-organization-id']).toBe(ORG);
  });

  it('a configured organization wins over the token response', async () => {
    const t = setup({ organizationId: 'configured-org' });
    t.answer('GET', '/api/v1/workspaces/a', [
      { status: 200, body: { ...workspace('a'), organization_id: 'configured-org' } },
    ]);
    await t.client.getWorkspace('a');
    expect(t.seen[0]?.headers['x-organization-id']).toBe('configured-org');
  });

  it('refreshes before expiry by the injected clock, once for 50 concurrent callers', async () => {
    const clock = new ManualClock(0);
    const t = setup({ clock, refreshSkewMs: 60_000 }, 900);
    t.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/workspaces/'), method: 'GET' })
      .reply(200, JSON.stringify(workspace('x')))
      .persist();
    await t.client.getWorkspace('x');
    clock.advance(839_000);
    await t.client.getWorkspace('x');
    expect(t.mints()).toBe(1);
    clock.advance(1_000); // 840 s = 900 s − 60 s skew: stale now
    await Promise.all(Array.from({ length: 50 }, () => t.client.getWorkspace('x')));
    expect(t.mints()).toBe(2);
  });

  it('a call whose rate-limit slot came after its token went stale leaves with a fresh one', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    // The second call's slot comes 10 minutes late (a long shared pause): past the refresh time.
    const rateLimiter = {
      acquire: async () => {
        calls += 1;
        if (calls === 3) clock.advance(10 * 60_000);
      },
      pause: async () => {},
      pausedUntil: async () => undefined,
    };
    const t = setup({ clock, refreshSkewMs: 60_000, rateLimiter }, 900);
    t.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/workspaces/'), method: 'GET' })
      .reply((opts) => ({
        statusCode: 200,
        data: JSON.stringify({
          ...workspace('x'),
          name: String((opts.headers as Record<string, string>).authorization),
        }),
      }))
      .persist();
    expect((await t.client.getWorkspace('x'))?.name).toBe('Bearer app-token-1-xxxxxxxx');
    // 840 s into the 900 s token is its refresh time: the slot comes at 900 s.
    clock.advance(5 * 60_000);
    expect((await t.client.getWorkspace('x'))?.name).toBe('Bearer app-token-2-xxxxxxxx');
    expect(t.mints()).toBe(2);
  });

  it('on a 401 invalidates, mints once and retries the call once', async () => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces/a', [
      { status: 200, body: workspace('a') },
      { status: 401, body: { detail: 'Token expired' } },
      { status: 200, body: workspace('a') },
    ]);
    await t.client.getWorkspace('a');
    await expect(t.client.getWorkspace('a')).resolves.toMatchObject({ id: 'a' });
    expect(t.mints()).toBe(2);
    expect(t.seen[2]?.headers.authorization).toBe('Bearer app-token-2-xxxxxxxx');
  });

  it('a second 401 in a row is an AuthError', async () => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces/a', [
      { status: 401, body: { detail: 'no' } },
      { status: 401, body: { detail: 'no' } },
    ]);
    const error = await t.client.getWorkspace('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(t.mints()).toBe(2);
  });

  it('a refused token request is an AuthError that does not quote the secret', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agents.push(agent);
    agent
      .get(ORIGIN)
      .intercept({ path: TOKEN_PATH, method: 'POST' })
      .reply(403, JSON.stringify({ error: 'forbidden', message: `bad secret ${SECRET}` }));
    const client = createAgentEngine({
      baseUrl: ORIGIN,
      clientId: 'id',
      clientSecret: SECRET,
      dispatcher: agent,
      logger: pino({ level: 'silent' }),
    });
    const error = (await client.getWorkspace('a').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe(
      'POST /account/applications/token → 403: forbidden: bad secret [redacted]',
    );
  });
});

/** A client whose token endpoint answers `mints` in order (200s carry a token), and the pauses it asked for. */
function mintingClient(mints: number[], extra: Partial<AgentEngineOptions> = {}) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agents.push(agent);
  const pool = agent.get(ORIGIN);
  let minted = 0;
  for (const status of mints) {
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(() => {
      minted += 1;
      const body = {
        access_token: `app-token-${minted}-xxxxxxxx`,
        token_type: 'bearer',
        expires_in: 900,
        organization_id: ORG,
      };
      if (status === 200) return { statusCode: 200, data: JSON.stringify(body) };
      // A 429 asks for a day; other failures say nothing.
      const headers: Record<string, string> = status === 429 ? { 'retry-after': '86400' } : {};
      return { statusCode: status, data: '{}', responseOptions: { headers } };
    });
  }
  const paused: number[] = [];
  const client = createAgentEngine({
    baseUrl: ORIGIN,
    clientId: 'id',
    clientSecret: SECRET,
    dispatcher: agent,
    logger: pino({ level: 'silent' }),
    listingRetry: { baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 0 },
    rateLimiter: {
      acquire: () => Promise.resolve(),
      pause: (ms) => Promise.resolve(void paused.push(ms)),
      pausedUntil: () => Promise.resolve(undefined),
    },
    ...extra,
  });
  return { pool, client, paused, minted: () => minted };
}

describe('application-token mints: part of the call that needs one', () => {
  it('a mint answered 503 fails a sync call at once; a listing page retries it', async () => {
    const sync = mintingClient([503, 200]);
    await expect(sync.client.getWorkspace('a')).rejects.toBeInstanceOf(RetryableError);
    expect(sync.minted()).toBe(1);
    const listing = mintingClient([503, 200]);
    listing.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/workspaces?') })
      .reply(200, JSON.stringify({ data: [workspace('a')], next: null }));
    const ids: string[] = [];
    for await (const p of listing.client.listWorkspaces()) ids.push(...p.map((w) => w.id));
    expect(ids).toEqual(['a']);
    expect(listing.minted()).toBe(2);
  });

  it('a mint answered 429 pauses every daemon, capped at MAX_RETRY_AFTER, like any 429', async () => {
    const t = mintingClient([429, 200], { retryAfterCapMs: 90_000 });
    const error = (await t.client.getWorkspace('a').catch((e: unknown) => e)) as RetryableError;
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(90_000);
    expect(t.paused).toEqual([90_000]);
    expect(t.minted()).toBe(1);
  });
});

describe('answers and failures', () => {
  it('404 on get is undefined; a 200 of the wrong shape is a PermanentError naming the route', async () => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces/gone', [{ status: 404, body: { detail: 'Not found' } }]);
    t.answer('GET', '/api/v1/workspaces/odd', [
      { status: 200, body: { ...workspace('odd'), status: 'paused', tombstone: undefined } },
    ]);
    t.answer('GET', '/api/v1/workspaces/html', [{ status: 200, body: '<html>' }]);
    await expect(t.client.getWorkspace('gone')).resolves.toBeUndefined();
    const odd = (await t.client.getWorkspace('odd').catch((e: unknown) => e)) as Error;
    expect(odd).toBeInstanceOf(PermanentError);
    expect(odd.message).toMatch(/^GET \/workspaces\/\{id\} → 200: unexpected answer: status: /);
    expect(odd.message).toContain('tombstone');
    // Not JSON at all (a proxy's page, a cut body) may cure itself: retryable (see hostile answers).
    await expect(t.client.getWorkspace('html')).rejects.toBeInstanceOf(RetryableError);
  });

  it('a tombstone is gone like a 404; another organization’s workspace is refused', async () => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces/dead', [
      { status: 200, body: { ...workspace('dead'), tombstone: true } },
    ]);
    t.answer('GET', '/api/v1/workspaces/theirs', [
      {
        status: 200,
        body: { ...workspace('theirs'), organization_id: '22222222-2222-4222-8222-222222222222' },
      },
    ]);
    await expect(t.client.getWorkspace('dead')).resolves.toBeUndefined();
    const error = (await t.client.getWorkspace('theirs').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/belongs to organization 22222222/);
  });

  it('a permanent 422 is thrown at once with a readable message', async () => {
    const t = setup();
    const body = {
      message: 'Invalid',
      errors: [{ field: 'name', message: 'Workspace name already exists' }],
    };
    t.answer('PUT', '/api/v1/workspaces/a', [{ status: 422, body }]);
    const error = (await t.client
      .updateWorkspace('a', { name: 'B' })
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('PUT /workspaces/{id} → 422: name: Workspace name already exists');
    expect(t.seen).toHaveLength(1);
    expect(t.seen[0]?.body).toEqual({ name: 'B' });
  });

  it('a sync call makes one attempt: a 503, a network error or a timeout is thrown at once', async () => {
    const t = setup({ requestTimeoutMs: 50 });
    t.answer('GET', '/api/v1/workspaces/a', [{ status: 503 }]);
    t.pool
      .intercept({ path: '/api/v1/workspaces/b' })
      .replyWithError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    t.pool
      .intercept({ path: '/api/v1/workspaces/c' })
      .reply(200, JSON.stringify(workspace('c')))
      .delay(1_000);
    // Answers a retry would get: none may be asked for.
    for (const id of ['a', 'b', 'c']) {
      t.answer('GET', `/api/v1/workspaces/${id}`, [{ status: 200, body: workspace(id) }]);
    }
    for (const id of ['a', 'b', 'c']) {
      await expect(t.client.getWorkspace(id)).rejects.toBeInstanceOf(RetryableError);
    }
    expect(t.calls.filter((c) => c.route === 'GET /workspaces/{id}').map((c) => c.status)).toEqual([
      503,
      'error',
      'error',
    ]);
    t.answer('PUT', '/api/v1/workspaces/p', [
      { status: 502 },
      { status: 200, body: workspace('p') },
    ]);
    await expect(t.client.updateWorkspace('p', { name: 'N' })).rejects.toBeInstanceOf(
      RetryableError,
    );
    expect(t.seen.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('a listing page retries 503 and network errors in the call, then succeeds', async () => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces', [{ status: 503 }, { status: 502 }]);
    t.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/workspaces?') })
      .replyWithError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    t.answer('GET', '/api/v1/workspaces', [
      { status: 200, body: { data: [workspace('a')], next: null } },
    ]);
    const ids: string[] = [];
    for await (const p of t.client.listWorkspaces()) ids.push(...p.map((w) => w.id));
    expect(ids).toEqual(['a']);
    expect(t.calls.filter((c) => c.route === 'GET /workspaces').map((c) => c.status)).toEqual([
      503,
      502,
      'error',
      200,
    ]);
  });

  it('a listing page gives up after `attempts` with the last RetryableError', async () => {
    const t = setup({ listingRetry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    t.answer('GET', '/api/v1/workspaces', [{ status: 503 }, { status: 503 }, { status: 503 }]);
    const error = await (async () => {
      for await (const _ of t.client.listWorkspaces()) void _;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(t.seen).toHaveLength(3);
  });

  it('a Retry-After longer than maxRetryAfterMs is thrown at once, carrying the wait', async () => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces', [{ status: 429, headers: { 'retry-after': '10' } }]);
    const error = (await (async () => {
      for await (const _ of t.client.listWorkspaces()) void _;
    })().catch((e: unknown) => e)) as RetryableError;
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.retryAfterMs).toBe(10_000);
    expect(t.seen).toHaveLength(1);
  });

  it('a sync call never waits out a Retry-After: a 429 pauses everyone, then is thrown', async () => {
    const paused: number[] = [];
    const t = setup({
      rateLimiter: {
        acquire: () => Promise.resolve(),
        pause: (ms) => Promise.resolve(void paused.push(ms)),
        pausedUntil: () => Promise.resolve(undefined),
      },
    });
    t.answer('GET', '/api/v1/workspaces/a', [
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200, body: workspace('a') },
    ]);
    const error = (await t.client.getWorkspace('a').catch((e: unknown) => e)) as RetryableError;
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.retryAfterMs).toBe(1_000);
    expect(paused).toEqual([1_000]);
    expect(t.seen).toHaveLength(1);
  });

  it('a hung listing page times out and is retried', async () => {
    const t = setup({ requestTimeoutMs: 50 });
    t.pool
      .intercept({ path: (p) => p.startsWith('/api/v1/workspaces?') })
      .reply(200, JSON.stringify({ data: [], next: null }))
      .delay(1_000);
    t.answer('GET', '/api/v1/workspaces', [
      { status: 200, body: { data: [workspace('a')], next: null } },
    ]);
    const ids: string[] = [];
    for await (const p of t.client.listWorkspaces()) ids.push(...p.map((w) => w.id));
    expect(ids).toEqual(['a']);
    expect(t.calls.filter((c) => c.route === 'GET /workspaces').map((c) => c.status)).toEqual([
      'error',
      200,
    ]);
  });

  it('an abort during backoff rejects at once and sends nothing more', async () => {
    const t = setup({
      listingRetry: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
      random: () => 0.5,
    });
    t.answer('GET', '/api/v1/workspaces', [{ status: 503 }]);
    const controller = new AbortController();
    const pending = (async () => {
      for await (const _ of t.client.listWorkspaces({ signal: controller.signal })) void _;
    })();
    await waitFor(() => t.seen.length === 1, { what: 'the first attempt' });
    controller.abort();
    await expect(pending).rejects.toThrow(/aborted/);
    expect(t.seen).toHaveLength(1);
  });
});

describe('delete', () => {
  it('a 504 is retried once and a following 404 means done', async () => {
    const t = setup();
    t.answer('DELETE', '/api/v1/workspaces/a', [{ status: 504 }, { status: 404 }]);
    await expect(t.client.deleteWorkspace('a')).resolves.toBeUndefined();
    expect(t.seen).toHaveLength(2);
  });

  it('a second 504 is thrown as retryable, not retried again', async () => {
    const t = setup();
    t.answer('DELETE', '/api/v1/workspaces/a', [{ status: 504 }, { status: 504 }, { status: 404 }]);
    await expect(t.client.deleteWorkspace('a')).rejects.toBeInstanceOf(RetryableError);
    expect(t.seen).toHaveLength(2);
  });

  it('a 503 is not repeated: only a 504 is, once, and a 503 after it is thrown', async () => {
    const t = setup();
    t.answer('DELETE', '/api/v1/workspaces/a', [{ status: 503 }, { status: 404 }]);
    await expect(t.client.deleteWorkspace('a')).rejects.toBeInstanceOf(RetryableError);
    expect(t.seen).toHaveLength(1);
    t.answer('DELETE', '/api/v1/workspaces/b', [{ status: 504 }, { status: 503 }, { status: 404 }]);
    await expect(t.client.deleteWorkspace('b')).rejects.toBeInstanceOf(RetryableError);
    expect(t.seen).toHaveLength(3);
  });
});

describe('listWorkspaces', () => {
  const page = (ids: string[], next?: string | null) => ({
    data: ids.map((id) => workspace(id)),
    ...(next === undefined ? {} : { next }),
  });

  it.each([null, '', undefined])('follows next verbatim and stops on next = %j', async (end) => {
    const t = setup();
    const second = `${ORIGIN}/api/v1/workspaces?limit=100&cursor=eyJvZmZzZXQiOjEwMH0%3D`;
    t.answer('GET', '/api/v1/workspaces', [
      { status: 200, body: page(['a', 'b'], second) },
      { status: 200, body: page(['c'], end) },
    ]);
    const ids: string[] = [];
    for await (const p of t.client.listWorkspaces({ status: 'active', nameContains: 'Ac me' })) {
      ids.push(...p.map((w) => w.id));
    }
    expect(ids).toEqual(['a', 'b', 'c']);
    expect(t.seen[0]?.path).toBe('/api/v1/workspaces?limit=100&status=active&name_contains=Ac+me');
    expect(t.seen[1]?.path).toBe('/api/v1/workspaces?limit=100&cursor=eyJvZmZzZXQiOjEwMH0%3D');
  });

  it('leaves out tombstones and workspaces of another organization', async () => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces', [
      {
        status: 200,
        body: {
          data: [
            workspace('a'),
            { ...workspace('dead'), tombstone: true },
            { ...workspace('theirs'), organization_id: '22222222-2222-4222-8222-222222222222' },
          ],
          next: null,
        },
      },
    ]);
    const ids: string[] = [];
    for await (const p of t.client.listWorkspaces()) ids.push(...p.map((w) => w.id));
    expect(ids).toEqual(['a']);
  });

  it('refuses a next link to another host, before sending the token there', async () => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces', [
      { status: 200, body: page(['a'], 'https://evil.example/api/v1/workspaces?cursor=x') },
    ]);
    const seenPages: number[] = [];
    const error = await (async () => {
      for await (const p of t.client.listWorkspaces()) seenPages.push(p.length);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/refused next link to https:\/\/evil\.example/);
    expect(seenPages).toEqual([1]);
  });

  it.each([
    ['dot segments', '/api/v1/../../admin/x'],
    ['encoded dot segments', '/api/v1/%2e%2e/%2E%2e/admin'],
    ['backslashes', '/api/v1/..\\..\\admin'],
    ['a sibling of the root', '/api/v1.evil/workspaces'],
  ])('refuses a next link that starts like the API root but leaves it (%s)', async (_, path) => {
    const t = setup();
    t.answer('GET', '/api/v1/workspaces', [{ status: 200, body: page(['a'], `${ORIGIN}${path}`) }]);
    const seenPages: number[] = [];
    const error = await (async () => {
      for await (const p of t.client.listWorkspaces()) seenPages.push(p.length);
    })().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/refused next link/);
    expect(seenPages).toEqual([1]);
    expect(t.seen).toHaveLength(1);
  });

  it('refuses a next link that repeats a page', async () => {
    const t = setup();
    const again = `${ORIGIN}/api/v1/workspaces?cursor=1`;
    t.answer('GET', '/api/v1/workspaces', [
      { status: 200, body: page(['a'], again) },
      { status: 200, body: page(['b'], again) },
    ]);
    const error = await (async () => {
      for await (const _ of t.client.listWorkspaces()) void _;
    })().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/next link repeats a page/);
    expect(t.seen).toHaveLength(2);
  });

  it('a page that keeps failing throws instead of ending the list quietly', async () => {
    const t = setup({ listingRetry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    t.answer('GET', '/api/v1/workspaces', [
      { status: 200, body: page(['a'], `${ORIGIN}/api/v1/workspaces?cursor=2`) },
      { status: 500 },
      { status: 500 },
    ]);
    const error = await (async () => {
      for await (const _ of t.client.listWorkspaces()) void _;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
  });
});

describe('createWorkspace', () => {
  it('mints a scoped token, reads its info with it, and never logs or stores it', async () => {
    const t = setup();
    const scoped = 'scoped-token-abcdefgh';
    t.answer('POST', '/api/v1/account/applications/scoped-token', [
      { status: 200, body: { token: scoped } },
    ]);
    t.answer('GET', '/api/v1/account/applications/scoped-token/info', [
      { status: 200, body: { organization_id: ORG, workspace_id: 'w-1', workspace_name: 'Acme' } },
    ]);
    await expect(t.client.createWorkspace('Acme')).resolves.toEqual({ id: 'w-1', name: 'Acme' });
    expect(t.seen[0]?.body).toEqual({ workspace_name: 'Acme' });
    expect(t.seen[1]?.headers.authorization).toBe(`Bearer ${scoped}`);
    const log = t.lines.join('');
    expect(log).toContain('POST /account/applications/scoped-token');
    expect(log).not.toContain(scoped);
    expect(log).not.toContain('app-token-');
    expect(log).not.toContain(SECRET);
  });

  it('reads the id again with the same scoped token when the read fails, minting once', async () => {
    const t = setup();
    const scoped = 'scoped-token-abcdefgh';
    t.answer('POST', '/api/v1/account/applications/scoped-token', [
      { status: 200, body: { token: scoped } },
    ]);
    t.answer('GET', '/api/v1/account/applications/scoped-token/info', [
      { status: 502, body: { detail: 'Bad gateway' } },
      { status: 503, body: { detail: 'Service unavailable' } },
      { status: 200, body: { organization_id: ORG, workspace_id: 'w-1', workspace_name: 'Acme' } },
    ]);
    await expect(t.client.createWorkspace('Acme')).resolves.toEqual({ id: 'w-1', name: 'Acme' });
    expect(t.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'POST /api/v1/account/applications/scoped-token',
      ...Array(3).fill('GET /api/v1/account/applications/scoped-token/info'),
    ]);
    for (const read of t.seen.slice(1)) expect(read.headers.authorization).toBe(`Bearer ${scoped}`);
  });

  it('an info failure that quotes the scoped token does not put it in the error', async () => {
    const t = setup();
    const scoped = 'scoped-token-abcdefgh';
    t.answer('POST', '/api/v1/account/applications/scoped-token', [
      { status: 200, body: { token: scoped } },
    ]);
    t.answer('GET', '/api/v1/account/applications/scoped-token/info', [
      { status: 400, body: { detail: `token ${scoped} is malformed` } },
    ]);
    const error = (await t.client.createWorkspace('Acme').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe(
      'GET /account/applications/scoped-token/info → 400: token [redacted] is malformed',
    );
  });
});

describe('rate limiter', () => {
  it('a 429 pauses the shared limiter for its Retry-After, capped at retryAfterCapMs', async () => {
    const paused: number[] = [];
    const t = setup({
      retryAfterCapMs: 90_000,
      rateLimiter: {
        acquire: () => Promise.resolve(),
        pause: (ms) => Promise.resolve(void paused.push(ms)),
        pausedUntil: () => Promise.resolve(undefined),
      },
    });
    t.answer('GET', '/api/v1/workspaces/a', [{ status: 429, headers: { 'retry-after': '86400' } }]);
    t.answer('GET', '/api/v1/workspaces/b', [{ status: 503, headers: { 'retry-after': '60' } }]);
    const error = (await t.client.getWorkspace('a').catch((e: unknown) => e)) as RetryableError;
    expect(error.retryAfterMs).toBe(90_000);
    expect(paused).toEqual([90_000]);
    // A 503's Retry-After is about that call: nobody else is paused.
    await t.client.getWorkspace('b').catch(() => {});
    expect(paused).toEqual([90_000]);
  });

  it('is awaited before every API call, token mints included', async () => {
    let acquired = 0;
    const t = setup({
      rateLimiter: {
        acquire: () => Promise.resolve(void (acquired += 1)),
        pause: () => Promise.resolve(),
        pausedUntil: () => Promise.resolve(undefined),
      },
    });
    t.answer('GET', '/api/v1/workspaces', [
      { status: 503 },
      { status: 200, body: { data: [workspace('a')], next: null } },
    ]);
    for await (const _ of t.client.listWorkspaces()) void _;
    expect(t.mints()).toBe(1);
    // One mint and two attempts of a page: the API counts all three against its limit.
    expect(acquired).toBe(3);
  });
});

/**
 * Answers of the wrong shape: each is a clear failure of the kind retrying can or cannot cure,
 * never a crash (a TypeError) and never a value read from a body that did not say it.
 */
describe('hostile answers', () => {
  const ID = '22222222-2222-4222-8222-222222222222';
  const path = `/api/v1/workspaces/${ID}`;
  const bodyOf = (status: number, body: string) => [{ status, body }];

  it.each([
    ['an empty 200', '', RetryableError],
    ['truncated JSON', JSON.stringify(workspace(ID)).slice(0, 40), RetryableError],
    ['an HTML page with 200', '<html><body>Bad gateway</body></html>', RetryableError],
    ['a JSON null', 'null', PermanentError],
    ['an array', '[]', PermanentError],
    ['missing fields', JSON.stringify({ id: ID, name: 'x' }), PermanentError],
    [
      'wrong types',
      JSON.stringify({ ...workspace(ID), tombstone: 'no', status: 1 }),
      PermanentError,
    ],
    [
      'another workspace',
      JSON.stringify(workspace('33333333-3333-4333-8333-333333333333')),
      PermanentError,
    ],
  ])('%s on get fails as the right kind, naming the route', async (_what, body, kind) => {
    const t = setup();
    t.answer('GET', path, bodyOf(200, body));
    const error = (await t.client.getWorkspace(ID).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(kind);
    expect(error.message).toMatch(/^GET \/workspaces\/\{id\} → 200: /);
  });

  it('an HTML error page on a 502 is retryable, quoted short, and a listing retries it', async () => {
    const t = setup();
    const html = `<html><head><title>502</title></head><body>${'x'.repeat(5000)}</body></html>`;
    t.answer('GET', '/api/v1/workspaces', [
      { status: 502, body: html },
      { status: 200, body: { data: [workspace(ID)], next: null } },
    ]);
    for await (const _ of t.client.listWorkspaces()) void _;
    expect(t.seen).toHaveLength(2);
    t.answer('GET', path, [{ status: 502, body: html }]);
    const error = (await t.client.getWorkspace(ID).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message.length).toBeLessThan(300);
  });

  it('an update answered with another workspace is refused', async () => {
    const t = setup();
    t.answer('PUT', path, [
      { status: 200, body: workspace('44444444-4444-4444-8444-444444444444') },
    ]);
    await expect(t.client.updateWorkspace(ID, { name: 'N' })).rejects.toBeInstanceOf(
      PermanentError,
    );
  });

  it('a scoped token for a workspace of another name is never used as this one', async () => {
    const t = setup();
    t.answer('POST', '/api/v1/account/applications/scoped-token', [
      { status: 200, body: { token: 'scoped-xyz-123' } },
    ]);
    t.answer('GET', '/api/v1/account/applications/scoped-token/info', [
      { status: 200, body: { organization_id: ORG, workspace_id: ID, workspace_name: 'Other' } },
    ]);
    const error = (await t.client.createWorkspace('Acme').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).not.toContain('scoped-xyz-123');
  });

  const listAll = async (t: ReturnType<typeof setup>) => {
    const ids: string[] = [];
    const error = await (async () => {
      for await (const p of t.client.listWorkspaces()) ids.push(...p.map((w) => w.id));
    })().catch((e: unknown) => e);
    return { ids, error };
  };

  it.each([
    [
      'a page of 10,000 items (asked for 100)',
      () => ({
        data: Array.from({ length: 10_000 }, (_, i) => workspace(`w${i}`)),
        next: null,
      }),
      PermanentError,
    ],
    ['a page without data', () => ({ next: null }), PermanentError],
    ['a page whose data is not a list', () => ({ data: { id: 'a' }, next: null }), PermanentError],
    ['a next that is not a string', () => ({ data: [workspace('b')], next: 42 }), PermanentError],
    [
      'a next to another host',
      () => ({ data: [workspace('b')], next: 'http://evil.test/api/v1/workspaces?cursor=2' }),
      PermanentError,
    ],
    ['an empty 200', () => '', RetryableError],
    ['truncated JSON', () => '{"data": [', RetryableError],
  ])('a listing whose second page is %s fails, never ends quietly', async (_what, second, kind) => {
    const t = setup({ listingRetry: { attempts: 1 } });
    const body = second();
    t.answer('GET', '/api/v1/workspaces', [
      {
        status: 200,
        body: { data: [workspace('a')], next: `${ORIGIN}/api/v1/workspaces?cursor=2` },
      },
      { status: 200, body: typeof body === 'string' ? body : JSON.stringify(body) },
    ]);
    const { ids, error } = await listAll(t);
    expect(error).toBeInstanceOf(kind);
    expect(ids[0]).toBe('a');
    expect(ids.length).toBeLessThanOrEqual(2);
  });
});
