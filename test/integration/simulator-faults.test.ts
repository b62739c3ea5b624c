/**
 * The simulator's faults, stats and keep-alive over real HTTP, and `npm run sim` as a process.
 * The API's behaviour itself is in `simulator.test.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SECOND } from '../../src/lib/duration.js';
import { type Simulator, startSimulator } from '../../simulator/index.js';

const dispatcher = new Agent({ keepAliveTimeout: 10 * SECOND, connections: 32 });
afterAll(() => dispatcher.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(
  url: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${url}${path}`, { method, headers, body, dispatcher });
  return { status: res.statusCode, headers: res.headers, json: await res.body.json() };
}

const TOKEN_PATH = '/api/v1/account/applications/token';
const CREDENTIALS = { client_id: 'demo-client-id', client_secret: 'demo-client-secret' };

async function mint(url: string): Promise<string> {
  const res = await call(url, 'POST', TOKEN_PATH, { body: CREDENTIALS });
  expect(res.status).toBe(200);
  return res.json.access_token as string;
}

let sim: Simulator;
let token: string;
beforeEach(async () => {
  sim = await startSimulator();
  token = await mint(sim.url);
});
afterEach(() => sim.close());

const get = (path: string, t = token) => call(sim.url, 'GET', path, { token: t });

describe('faults', () => {
  it('answers 429 with Retry-After, but never on the token endpoint unless told', async () => {
    sim.faults.set({ p429: 1, retryAfterSeconds: 3 });
    const res = await get('/api/v1/workspaces');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('3');
    expect((await call(sim.url, 'POST', TOKEN_PATH, { body: CREDENTIALS })).status).toBe(200);
    sim.faults.set({ faultTokenEndpoint: true });
    expect((await call(sim.url, 'POST', TOKEN_PATH, { body: CREDENTIALS })).status).toBe(429);
    sim.faults.reset();
    expect((await get('/api/v1/workspaces')).status).toBe(200);
  });

  it('answers the configured 5xx statuses, and only on the routes named', async () => {
    sim.faults.set({ p5xx: 1, statuses5xx: [502], onlyRoutes: ['GET /api/v1/workspaces/stats'] });
    const failed = await get('/api/v1/workspaces/stats');
    expect(failed.status).toBe(502);
    expect(failed.json).toEqual({ message: expect.any(String), errors: [] });
    expect((await get('/api/v1/workspaces')).status).toBe(200);
    sim.faults.set({ onlyRoutes: ['/api/v1/workspaces'] }); // a bare template: any method
    expect((await get('/api/v1/workspaces')).status).toBe(502);
    sim.faults.set({ onlyRoutes: undefined, statuses5xx: [500, 503] });
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) seen.add((await get('/api/v1/workspaces')).status);
    expect([...seen].sort()).toEqual([500, 503]);
    // A refused PUT changes nothing.
    const ws = sim.store.create('Untouched');
    await call(sim.url, 'PUT', `/api/v1/workspaces/${ws.id}`, { token, body: { name: 'Changed' } });
    expect(sim.store.get(ws.id)?.name).toBe('Untouched');
  });

  it('answers 504 on delete while the delete completes; the retry meets 404', async () => {
    const ws = sim.store.create('Slow to delete');
    sim.faults.set({ p504OnDelete: 1 });
    const first = await call(sim.url, 'DELETE', `/api/v1/workspaces/${ws.id}`, { token });
    expect(first.status).toBe(504);
    expect(sim.store.get(ws.id)).toBeUndefined();
    const retry = await call(sim.url, 'DELETE', `/api/v1/workspaces/${ws.id}`, { token });
    expect(retry).toMatchObject({ status: 404, json: { detail: 'Workspace not found' } });
  });

  it('fails the page at a given offset every time, and only that page', async () => {
    sim.store.seed(59, (i) => `Co ${i}`);
    sim.faults.set({ failPageAtOffsets: [20] });
    const first = await get('/api/v1/workspaces?limit=20');
    expect(first.status).toBe(200);
    const next = new URL(first.json.next as string);
    for (let i = 0; i < 3; i++) {
      expect((await get(`${next.pathname}${next.search}`)).status).toBe(500);
    }
    const third = `/api/v1/workspaces?limit=20&cursor=${encodeURIComponent(Buffer.from('{"offset":40}').toString('base64'))}`;
    expect((await get(third)).status).toBe(200);
    sim.faults.set({ failPageAtOffsets: [0] });
    expect((await get('/api/v1/workspaces')).status).toBe(500); // no cursor is offset 0
  });

  it('revokes every token issued so far; new mints work', async () => {
    const scoped = await call(sim.url, 'POST', '/api/v1/account/applications/scoped-token', {
      token,
      body: { workspace_name: 'Acme' },
    });
    sim.faults.revokeAllTokens();
    sim.faults.reset(); // revocation is not a setting: reset does not undo it
    expect(await get('/api/v1/workspaces')).toMatchObject({
      status: 401,
      json: { detail: 'Invalid token' },
    });
    const info = await get(
      '/api/v1/account/applications/scoped-token/info',
      scoped.json.token as string,
    );
    expect(info.status).toBe(401);
    expect((await get('/api/v1/workspaces', await mint(sim.url))).status).toBe(200);
  });

  it('enforces a real shared rate limit with 429 and Retry-After', async () => {
    sim.faults.set({ rateLimitPerSecond: 5 });
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => get('/api/v1/workspaces/stats')),
    );
    const statuses = answers.map((a) => a.status);
    // A burst of one second's worth passes; the rest waits for the bucket to refill.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(4);
    const limited = answers.find((a) => a.status === 429);
    expect(limited?.headers['retry-after']).toBe('1');
    sim.faults.set({ rateLimitPerSecond: 0 });
    expect((await get('/api/v1/workspaces/stats')).status).toBe(200);
  });

  it('adds latency to every request', async () => {
    sim.faults.set({ latencyMs: 60 });
    const started = performance.now();
    await get('/api/v1/workspaces/stats');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe('stats', () => {
  it('counts by route template and status, mints and creations; reset zeroes them', async () => {
    await get('/api/v1/workspaces');
    await get('/api/v1/workspaces?limit=0');
    const ws = sim.store.create('X');
    await get(`/api/v1/workspaces/${ws.id}`);
    await call(sim.url, 'POST', '/api/v1/embedded/scoped-token', {
      token,
      body: { workspace_name: 'New' },
    });
    expect(sim.stats.snapshot()).toEqual({
      byRoute: {
        'POST /api/v1/account/applications/token': { '200': 1 },
        'GET /api/v1/workspaces': { '200': 1, '422': 1 },
        'GET /api/v1/workspaces/{id}': { '200': 1 },
        'POST /api/v1/embedded/scoped-token': { '200': 1 },
      },
      tokenMints: 1,
      scopedMints: 1,
      workspacesCreated: 1,
      mutatingOverlaps: 0,
      inFlight: 0,
      inFlightMax: 1,
    });
    expect(sim.stats.count('GET /api/v1/workspaces')).toBe(2);
    expect(sim.stats.count('GET /api/v1/workspaces', 422)).toBe(1);
    sim.stats.reset();
    expect(sim.stats.snapshot()).toMatchObject({ byRoute: {}, tokenMints: 0, inFlightMax: 0 });
  });

  it('counts a PUT that overlaps another mutation of the same workspace, not of others', async () => {
    const a = sim.store.create('A');
    const b = sim.store.create('B');
    sim.faults.set({ latencyMs: 80 });
    const put = (id: string, name: string) =>
      call(sim.url, 'PUT', `/api/v1/workspaces/${id}`, { token, body: { name } });
    await Promise.all([put(a.id, 'A1'), put(b.id, 'B1')]);
    expect(sim.stats.mutatingOverlaps).toBe(0);
    expect(sim.stats.inFlightMax).toBe(2);
    await Promise.all([put(a.id, 'A2'), put(a.id, 'A3')]);
    expect(sim.stats.mutatingOverlaps).toBe(1);
    await Promise.all([
      put(b.id, 'B2'),
      call(sim.url, 'DELETE', `/api/v1/workspaces/${b.id}`, { token }),
    ]);
    expect(sim.stats.snapshot().mutatingOverlaps).toBe(2);
    expect(sim.stats.inFlight).toBe(0);
  });
});

describe('connections', () => {
  it('keeps connections alive, and close() ends them and is idempotent', async () => {
    const own = new Agent({ keepAliveTimeout: 60 * SECOND, connections: 1 });
    const hit = () => request(`${sim.url}/api/v1/nothing`, { dispatcher: own });
    const first = await hit();
    await first.body.dump();
    expect(first.headers.connection).toBe('keep-alive');
    await (await hit()).body.dump();
    await Promise.all([sim.close(), sim.close()]); // returns although a socket is still open
    await expect(hit()).rejects.toThrow();
    await own.close();
  });
});

describe('npm run sim', () => {
  const TSX = 'node_modules/.bin/tsx';
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('prints its one line, serves, and exits 0 on SIGTERM', async () => {
    child = spawn(TSX, ['simulator/main.ts'], {
      env: { ...process.env, SIM_PORT: '0', SIM_CLIENT_ID: 'cid', SIM_CLIENT_SECRET: 'csecret' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await once(lines, 'line')) as [string];
    expect(line).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = line.slice('listening on '.length);
    const res = await call(url, 'POST', TOKEN_PATH, {
      body: { client_id: 'cid', client_secret: 'csecret' },
    });
    expect(res.status).toBe(200);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });

  it('exits non-zero with one line naming a bad variable', async () => {
    child = spawn(TSX, ['simulator/main.ts'], {
      env: { ...process.env, SIM_PORT: '0', SIM_SCOPED_TOKEN_TTL: 'twenty minutes' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('SIM_SCOPED_TOKEN_TTL')]);
  });
});
