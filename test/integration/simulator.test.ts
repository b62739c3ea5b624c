/**
 * The Agent Engine simulator over real HTTP: tokens and expiry, both scoped-token families,
 * get-or-create and the rename trap, name uniqueness, paging, tombstones and the error shapes of
 * docs/agent-engine-api.md. Faults, stats and `npm run sim` are in `simulator-faults.test.ts`.
 */
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { MINUTE, SECOND } from '../../src/lib/duration.js';
import { type Simulator, startSimulator } from '../../simulator/index.js';

const dispatcher = new Agent({ keepAliveTimeout: 10 * SECOND });
afterAll(() => dispatcher.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(
  sim: Simulator,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
  pathOrUrl: string,
  options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${sim.url}${pathOrUrl}`;
  const res = await request(url, { method, headers, body, dispatcher });
  const text = await res.body.text();
  expect(res.headers['content-type']).toBe('application/json');
  return { status: res.statusCode, headers: res.headers, json: JSON.parse(text) };
}

async function appToken(sim: Simulator): Promise<string> {
  const res = await call(sim, 'POST', '/api/v1/account/applications/token', {
    body: { client_id: 'id-1', client_secret: 'secret-1' },
  });
  expect(res.status).toBe(200);
  return res.json.access_token as string;
}

async function scoped(
  sim: Simulator,
  token: string,
  name: string,
  family = 'account/applications',
) {
  const res = await call(sim, 'POST', `/api/v1/${family}/scoped-token`, {
    token,
    body: { workspace_name: name },
  });
  expect(res.status).toBe(200);
  return res.json.token as string;
}

async function info(sim: Simulator, scopedToken: string, family = 'account/applications') {
  return call(sim, 'GET', `/api/v1/${family}/scoped-token/info`, { token: scopedToken });
}

let sim: Simulator;
let clock: ManualClock;
let token: string;
beforeEach(async () => {
  clock = new ManualClock(Date.parse('2026-04-20T21:57:20.991Z'));
  sim = await startSimulator({
    clientId: 'id-1',
    clientSecret: 'secret-1',
    clock,
    appTokenTtlMs: 15 * MINUTE,
    scopedTokenTtlMs: 20 * MINUTE,
  });
  token = await appToken(sim);
});
afterEach(() => sim.close());

const JWT = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('application tokens', () => {
  it('mints random JWT-looking tokens with expiry and organization', async () => {
    const res = await call(sim, 'POST', '/api/v1/account/applications/token', {
      body: { client_id: 'id-1', client_secret: 'secret-1' },
    });
    expect(res.json).toEqual({
      access_token: expect.stringMatching(JWT),
      token_type: 'bearer',
      expires_in: 900,
      organization_id: sim.organizationId,
    });
    expect(res.json.access_token).not.toBe(token);
    expect(sim.stats.tokenMints).toBe(2);
  });

  it('refuses wrong credentials with the {error, message} shape, and malformed bodies with 422', async () => {
    const wrong = await call(sim, 'POST', '/api/v1/account/applications/token', {
      body: { client_id: 'id-1', client_secret: 'nope' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: 'invalid_client', message: expect.any(String) });
    const missing = await call(sim, 'POST', '/api/v1/account/applications/token', {
      body: { client_id: 'id-1' },
    });
    expect(missing.status).toBe(422);
    expect(missing.json.detail).toEqual([
      { loc: ['body', 'client_secret'], msg: 'Field required', type: 'missing' },
    ]);
    const notJson = await call(sim, 'POST', '/api/v1/account/applications/token', { raw: '{oops' });
    expect(notJson.status).toBe(422);
    expect(notJson.json.detail[0].type).toBe('json_invalid');
  });

  it('answers 401 Token expired once the clock passes the lifetime, and 401 without a token', async () => {
    expect((await call(sim, 'GET', '/api/v1/workspaces/stats', { token })).status).toBe(200);
    clock.advance(15 * MINUTE - 1);
    expect((await call(sim, 'GET', '/api/v1/workspaces/stats', { token })).status).toBe(200);
    clock.advance(1);
    const expired = await call(sim, 'GET', '/api/v1/workspaces/stats', { token });
    expect(expired).toMatchObject({ status: 401, json: { detail: 'Token expired' } });
    const none = await call(sim, 'GET', '/api/v1/workspaces/stats');
    expect(none.status).toBe(401);
    const forged = await call(sim, 'GET', '/api/v1/workspaces/stats', { token: `${token}x` });
    expect(forged).toMatchObject({ status: 401, json: { detail: 'Invalid token' } });
  });

  it('checks X-Organization-Id when sent', async () => {
    const same = { 'x-organization-id': sim.organizationId };
    expect((await call(sim, 'GET', '/api/v1/workspaces', { token, headers: same })).status).toBe(
      200,
    );
    const other = { 'x-organization-id': '00000000-0000-4000-8000-000000000000' };
    const res = await call(sim, 'GET', '/api/v1/workspaces', { token, headers: other });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ message: expect.any(String), errors: [expect.any(Object)] });
  });
});

describe('scoped tokens: get-or-create by exact name', () => {
  it.each(['account/applications', 'embedded'])('serves the %s family', async (family) => {
    const scopedToken = await scoped(sim, token, 'Acme', family);
    expect(scopedToken).toMatch(JWT);
    const res = await info(sim, scopedToken, family);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      organization_id: sim.organizationId,
      workspace_id: expect.stringMatching(UUID),
      workspace_name: 'Acme',
    });
    const created = sim.store.get(res.json.workspace_id as string);
    expect(created).toMatchObject({ name: 'Acme', status: 'active', tombstone: false });
  });

  it('returns the same workspace for the same name across families, creating it once', async () => {
    const a = await info(sim, await scoped(sim, token, 'Acme', 'embedded'));
    const b = await info(sim, await scoped(sim, token, 'Acme'), 'embedded');
    expect(a.json.workspace_id).toBe(b.json.workspace_id);
    const c = await info(sim, await scoped(sim, token, 'acme'));
    expect(c.json.workspace_id).not.toBe(a.json.workspace_id); // exact, case-sensitive
    expect(sim.stats.snapshot()).toMatchObject({ scopedMints: 3, workspacesCreated: 2 });
    expect(sim.store.count()).toBe(3); // with `default`
  });

  it('keeps an existing inactive workspace as it is', async () => {
    const existing = sim.store.create('Sleepy', 'inactive');
    const res = await info(sim, await scoped(sim, token, 'Sleepy'));
    expect(res.json.workspace_id).toBe(existing.id);
    expect(sim.store.get(existing.id)?.status).toBe('inactive');
  });

  it('demands the right token on each side', async () => {
    const scopedToken = await scoped(sim, token, 'Acme');
    for (const family of ['account/applications', 'embedded']) {
      expect((await info(sim, token, family)).status).toBe(401); // an application token
      const none = await call(sim, 'GET', `/api/v1/${family}/scoped-token/info`);
      expect(none.status).toBe(401);
    }
    const onWorkspaces = await call(sim, 'GET', '/api/v1/workspaces', { token: scopedToken });
    expect(onWorkspaces.status).toBe(403);
    expect(onWorkspaces.json).toEqual({
      message: expect.any(String),
      errors: [
        { field: null, message: expect.any(String), error_code: 'forbidden', details: null },
      ],
    });
    const mintWithScoped = await call(sim, 'POST', '/api/v1/embedded/scoped-token', {
      token: scopedToken,
      body: { workspace_name: 'X' },
    });
    expect(mintWithScoped.status).toBe(403);
  });

  it('expires scoped tokens after their own lifetime', async () => {
    const scopedToken = await scoped(sim, token, 'Acme');
    clock.advance(20 * MINUTE - 1);
    expect((await info(sim, scopedToken)).status).toBe(200);
    clock.advance(1);
    expect(await info(sim, scopedToken)).toMatchObject({
      status: 401,
      json: { detail: 'Token expired' },
    });
  });

  it('validates the body', async () => {
    const path = '/api/v1/account/applications/scoped-token';
    const missing = await call(sim, 'POST', path, { token, body: {} });
    expect(missing.status).toBe(422);
    expect(missing.json.detail[0].loc).toEqual(['body', 'workspace_name']);
    const region = await call(sim, 'POST', path, {
      token,
      body: { workspace_name: 'EU Co', region_id: 'b9e48d61-f082-4a14-a8d0-799a907938cb' },
    });
    expect(region.status).toBe(200);
    const badRegion = await call(sim, 'POST', path, {
      token,
      body: { workspace_name: 'EU Co', region_id: 'eu' },
    });
    expect(badRegion.status).toBe(422);
  });

  it('creates a workspace in the region its first mint names, and never moves it', async () => {
    const path = '/api/v1/account/applications/scoped-token';
    const EU = 'b9e48d61-f082-4a14-a8d0-799a907938cb';
    const US = '645a183f-b12b-4c6e-8ad3-99e165603450';
    const mint = (name: string, region?: string) =>
      call(sim, 'POST', path, {
        token,
        body: { workspace_name: name, ...(region ? { region_id: region } : {}) },
      });
    expect((await mint('Paris Co', EU.toUpperCase())).status).toBe(200);
    expect((await mint('Plain Co')).status).toBe(200);
    expect((await mint('Paris Co', US)).status).toBe(200); // found, not created: stays in the EU
    const paris = sim.store.findByName('Paris Co')!;
    expect(sim.store.regionOf(paris.id)).toBe(EU);
    expect(sim.store.regionOf(sim.store.findByName('Plain Co')!.id)).toBe(US);
    expect(sim.journal.mints.map((m) => [m.name, m.regionId])).toEqual([
      ['Paris Co', EU],
      ['Plain Co', null],
    ]);
    // The API's workspace object has no region field.
    const got = await call(sim, 'GET', `/api/v1/workspaces/${paris.id}`, { token });
    expect(Object.keys(got.json as object)).not.toContain('region_id');
  });

  it('falls into the rename trap: minting with the old name creates a new workspace', async () => {
    const first = await scoped(sim, token, 'Acme');
    const id = (await info(sim, first)).json.workspace_id as string;
    const renamed = await call(sim, 'PUT', `/api/v1/workspaces/${id}`, {
      token,
      body: { name: 'Acme Corp' },
    });
    expect(renamed.json).toMatchObject({ id, name: 'Acme Corp' });
    const again = await info(sim, await scoped(sim, token, 'Acme'));
    expect(again.json.workspace_id).not.toBe(id);
    expect(again.json.workspace_name).toBe('Acme');
    // The old scoped token still names its workspace, under its new name.
    expect((await info(sim, first)).json).toMatchObject({
      workspace_id: id,
      workspace_name: 'Acme Corp',
    });
  });
});

describe('workspaces', () => {
  it('has `default` from the start, with all eight fields in snake_case', async () => {
    const res = await call(sim, 'GET', '/api/v1/workspaces', { token });
    expect(res.json).toEqual({
      data: [
        {
          id: expect.stringMatching(UUID),
          name: 'default',
          organization_id: sim.organizationId,
          status: 'active',
          cache_enabled: null,
          tombstone: false,
          created_at: '2026-04-20T21:57:20.991000Z',
          updated_at: '2026-04-20T21:57:20.991000Z',
        },
      ],
      next: null,
    });
  });

  it('updates partially, keeps names unique among live workspaces, and validates', async () => {
    const a = sim.store.create('A');
    sim.store.create('B');
    const path = `/api/v1/workspaces/${a.id}`;
    clock.advance(SECOND);
    const put = await call(sim, 'PUT', path, {
      token,
      body: { status: 'inactive', cache_enabled: true },
    });
    expect(put.json).toMatchObject({ name: 'A', status: 'inactive', cache_enabled: true });
    expect(put.json.updated_at).not.toBe(put.json.created_at);
    const taken = await call(sim, 'PUT', path, { token, body: { name: 'B' } });
    expect(taken.status).toBe(422);
    expect(taken.json).toEqual({
      message: expect.any(String),
      errors: [
        {
          field: 'name',
          message: expect.any(String),
          error_code: expect.any(String),
          details: expect.anything(),
        },
      ],
    });
    expect(sim.store.get(a.id)?.name).toBe('A'); // nothing applied
    const badStatus = await call(sim, 'PUT', path, { token, body: { status: 'paused' } });
    expect(badStatus.status).toBe(422);
    expect(badStatus.json.detail).toEqual([
      { loc: ['body', 'status'], msg: expect.any(String), type: 'enum' },
    ]);
    expect((await call(sim, 'PUT', path, { token, body: { name: 'A' } })).status).toBe(200);
    expect((await call(sim, 'PUT', path, { token, raw: '[1' })).status).toBe(422);
    // A tombstone frees its name.
    sim.store.delete(sim.store.findByName('B')!.id);
    expect((await call(sim, 'PUT', path, { token, body: { name: 'B' } })).json.name).toBe('B');
  });

  it('answers 404 for unknown ids, 422 for non-uuids, 404/405 for unknown routes', async () => {
    const unknown = await call(
      sim,
      'GET',
      '/api/v1/workspaces/00000000-0000-4000-8000-000000000000',
      {
        token,
      },
    );
    expect(unknown).toMatchObject({ status: 404, json: { detail: 'Workspace not found' } });
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const res = await call(sim, method, '/api/v1/workspaces/not-a-uuid', { token, body: {} });
      expect(res.status).toBe(422);
      expect(res.json.detail).toEqual([
        { loc: ['path', 'workspace_id'], msg: expect.any(String), type: 'uuid_parsing' },
      ]);
    }
    expect((await call(sim, 'GET', '/api/v1/nothing', { token })).json).toEqual({
      detail: 'Not Found',
    });
    expect((await call(sim, 'PATCH', '/api/v1/workspaces', { token })).status).toBe(405);
  });

  it('hides tombstones: 404 on get, put and a second delete; gone from list and stats', async () => {
    const ws = sim.store.create('Doomed');
    sim.store.create('Kept', 'inactive');
    const path = `/api/v1/workspaces/${ws.id}`;
    clock.advance(5 * SECOND);
    const del = await call(sim, 'DELETE', path, { token });
    expect(del).toMatchObject({
      status: 200,
      json: { id: ws.id, deleted_at: '2026-04-20T21:57:25.991000Z' },
    });
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const res = await call(sim, method, path, { token, body: { name: 'x' } });
      expect(res).toMatchObject({ status: 404, json: { detail: 'Workspace not found' } });
    }
    const list = await call(sim, 'GET', '/api/v1/workspaces', { token });
    expect(list.json.data.map((w: { name: string }) => w.name)).toEqual(['default', 'Kept']);
    const stats = await call(sim, 'GET', '/api/v1/workspaces/stats', { token });
    expect(stats.json).toEqual({ active_count: 1, inactive_count: 1, total_count: 2 });
    expect(sim.store.get(ws.id)).toBeUndefined();
    expect(sim.store.getIncludingDeleted(ws.id)?.tombstone).toBe(true);
    // The name is free again: get-or-create makes a new workspace.
    const again = await info(sim, await scoped(sim, token, 'Doomed'));
    expect(again.json.workspace_id).not.toBe(ws.id);
  });
});

describe('paging', () => {
  async function readAll(first: string): Promise<{ names: string[]; nexts: string[] }> {
    const names: string[] = [];
    const nexts: string[] = [];
    let url: string | null = first;
    while (url) {
      const res: Answer = await call(sim, 'GET', url, { token });
      expect(res.status).toBe(200);
      names.push(...res.json.data.map((w: { name: string }) => w.name));
      url = res.json.next as string | null;
      if (url) nexts.push(url);
    }
    return { names, nexts };
  }

  it('pages in creation order with `next` on its own base, ending with null', async () => {
    sim.store.seed(44, (i) => `Co ${i}`);
    const first = await call(sim, 'GET', '/api/v1/workspaces', { token });
    expect(first.json.data).toHaveLength(20); // default limit
    const next = new URL(first.json.next as string);
    expect(next.origin).toBe(sim.url);
    expect(next.pathname).toBe('/api/v1/workspaces');
    expect(next.searchParams.get('limit')).toBe('20');
    const cursor = next.searchParams.get('cursor')!;
    expect(JSON.parse(Buffer.from(cursor, 'base64').toString())).toEqual({ offset: 20 });
    const all = await readAll('/api/v1/workspaces?limit=20');
    expect(all.names).toEqual(['default', ...Array.from({ length: 44 }, (_, i) => `Co ${i}`)]);
    expect(all.nexts).toHaveLength(2); // 20 + 20 + 5
  });

  it('gives next null when the last page is exactly full, and for a cursor past the end', async () => {
    sim.store.seed(39, (i) => `Co ${i}`); // 40 with default
    const all = await readAll('/api/v1/workspaces?limit=20');
    expect(all.names).toHaveLength(40);
    expect(all.nexts).toHaveLength(1);
    const past = Buffer.from('{"offset":500}').toString('base64');
    const res = await call(sim, 'GET', `/api/v1/workspaces?cursor=${encodeURIComponent(past)}`, {
      token,
    });
    expect(res.json).toEqual({ data: [], next: null });
  });

  it('keeps status and name_contains (case-insensitive) in next', async () => {
    sim.store.seed(
      30,
      (i) => (i % 2 ? `ACME ${i}` : `Other ${i}`),
      (i) => (i % 3 ? 'active' : 'inactive'),
    );
    const expected = sim.store
      .list()
      .filter((w) => w.name.toLowerCase().includes('acme') && w.status === 'active')
      .map((w) => w.name);
    const all = await readAll('/api/v1/workspaces?limit=3&status=active&name_contains=aCmE');
    expect(all.names).toEqual(expected);
    for (const n of all.nexts) {
      const params = new URL(n).searchParams;
      expect(params.get('status')).toBe('active');
      expect(params.get('name_contains')).toBe('aCmE');
      expect(params.get('limit')).toBe('3');
    }
    const inactive = await readAll('/api/v1/workspaces?limit=4&status=inactive');
    expect(inactive.names).toEqual(
      sim.store
        .list()
        .filter((w) => w.status === 'inactive')
        .map((w) => w.name),
    );
  });

  it('points next at the host the client used', async () => {
    sim.store.seed(5, (i) => `Co ${i}`);
    const port = new URL(sim.url).port;
    const res = await call(sim, 'GET', `http://localhost:${port}/api/v1/workspaces?limit=2`, {
      token,
    });
    expect(new URL(res.json.next as string).origin).toBe(`http://localhost:${port}`);
  });

  it('refuses limits outside 1..100 and bad cursors or statuses with FastAPI 422s', async () => {
    for (const [query, type] of [
      ['limit=0', 'greater_than_equal'],
      ['limit=101', 'less_than_equal'],
      ['limit=ten', 'int_parsing'],
      ['cursor=%%%', 'value_error'],
      ['cursor=bm90IGpzb24', 'value_error'],
      ['status=paused', 'enum'],
    ]) {
      const res = await call(sim, 'GET', `/api/v1/workspaces?${query}`, { token });
      expect(res.status, query).toBe(422);
      expect(res.json.detail, query).toEqual([
        { loc: ['query', expect.any(String)], msg: expect.any(String), type },
      ]);
    }
    expect((await call(sim, 'GET', '/api/v1/workspaces?limit=100', { token })).status).toBe(200);
  });
});
