/**
 * The simulator's journal over real HTTP: mints with their name and time, only the changes a PUT
 * or DELETE really made, every token issued, and calls whose token had expired on arrival (not
 * ones slowed past expiry by injected latency). What a test does to the store directly is not
 * journaled.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { type Simulator, startSimulator } from '../../simulator/index.js';

let sim: Simulator | undefined;
afterEach(() => sim?.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field
type Json = any;

async function call(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${sim!.url}${path}`, { method, headers, body });
  return { status: res.statusCode, json: await res.body.json() };
}

const appToken = async () =>
  (
    await call('POST', '/api/v1/account/applications/token', {
      body: { client_id: 'demo-client-id', client_secret: 'demo-client-secret' },
    })
  ).json.access_token as string;

const mintWorkspace = async (token: string, name: string) =>
  call('POST', '/api/v1/account/applications/scoped-token', {
    token,
    body: { workspace_name: name },
  });

describe('simulator journal', () => {
  it('records mints, real changes and every token; not no-ops, repeats or direct store edits', async () => {
    const clock = new ManualClock(1_000_000);
    sim = await startSimulator({ clock });
    const token = await appToken();
    clock.advance(5);
    expect((await mintWorkspace(token, 'Acme')).status).toBe(200);
    expect((await mintWorkspace(token, 'Acme')).status).toBe(200); // the same workspace: no mint
    const id = sim.store.findByName('Acme')!.id;
    expect(sim.journal.mints).toEqual([
      { at: 1_000_005, workspaceId: id, name: 'Acme', regionId: null },
    ]);

    clock.advance(10);
    const put = (body: unknown) => call('PUT', `/api/v1/workspaces/${id}`, { token, body });
    expect((await put({ name: 'Acme Inc' })).status).toBe(200);
    expect((await put({ name: 'Acme Inc', status: 'active' })).status).toBe(200); // no change
    expect((await put({ status: 'inactive' })).status).toBe(200);
    sim.store.rename(id, 'Edited behind its back');
    expect((await call('DELETE', `/api/v1/workspaces/${id}`, { token })).status).toBe(200);
    expect((await call('DELETE', `/api/v1/workspaces/${id}`, { token })).status).toBe(404);

    expect(sim.journal.mutations).toEqual([
      {
        kind: 'update',
        at: 1_000_015,
        workspaceId: id,
        from: { name: 'Acme', status: 'active' },
        name: 'Acme Inc',
      },
      {
        kind: 'update',
        at: 1_000_015,
        workspaceId: id,
        from: { name: 'Acme Inc', status: 'active' },
        status: 'inactive',
      },
      {
        kind: 'delete',
        at: 1_000_015,
        workspaceId: id,
        from: { name: 'Edited behind its back', status: 'inactive' },
      },
    ]);
    // The application token and two scoped ones.
    expect(sim.journal.tokens).toHaveLength(3);
    expect(sim.journal.tokens[0]).toBe(token);
  });

  it('journals a call whose token expired before it arrived, not one that latency made late', async () => {
    sim = await startSimulator({ appTokenTtlMs: 300 });
    const token = await appToken();
    // Arrives in time, then waits out 500 ms of latency: the token is past its time when checked.
    sim.faults.set({ latencyMs: 500 });
    const slowed = await call('GET', '/api/v1/workspaces', { token });
    expect(slowed.status).toBe(401);
    expect(sim.journal.expiredCalls).toEqual([]);

    sim.faults.reset();
    const late = await call('GET', '/api/v1/workspaces', { token });
    expect(late.status).toBe(401);
    expect(sim.journal.expiredCalls).toHaveLength(1);
    expect(sim.journal.expiredCalls[0]).toMatchObject({ route: 'GET /api/v1/workspaces' });
    const { at, expiredAt } = sim.journal.expiredCalls[0]!;
    expect(at).toBeGreaterThanOrEqual(expiredAt);

    // A revoked token is refused, but it did not expire: not journaled as expired.
    const fresh = await appToken();
    sim.faults.revokeAllTokens();
    expect((await call('GET', '/api/v1/workspaces', { token: fresh })).status).toBe(401);
    expect(sim.journal.expiredCalls).toHaveLength(1);
  });
});
