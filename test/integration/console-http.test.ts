/**
 * The console over plain HTTP (the browser test covers the pages in Chromium): its login, the
 * pending count while no worker runs, the CSRF check refusing a forged POST and changing
 * nothing, approvals recorded in the audit with who approved, and its security headers.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { approve } from '../../src/ops/approve.js';
import { type Harness, startHarness } from '../support/harness.js';

const TOKEN = 'console-http-token-81b4';
const auth = (user = 'ops') => `Basic ${Buffer.from(`${user}:${TOKEN}`).toString('base64')}`;

let h: Harness;
let url: string;
beforeAll(async () => {
  h = await startHarness({ env: { DASHBOARD_TOKEN: TOKEN } });
  // A receiver: it serves the console but runs no sync, so new customers stay pending.
  url = (await h.startDaemon({}, { WORKER_CONCURRENCY: '0' })).url;
  await h.customers([
    { id: 'c1', name: 'One' },
    { id: 'c2', name: 'Two' },
    { id: 'c3', name: 'Gone', status: 'deleted' },
    // Paused customers: their rows call for the deactivations the tests hold.
    ...['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((id) => ({
      id,
      name: `Paused ${id}`,
      status: 'inactive',
    })),
  ]);
});
afterAll(async () => {
  await h?.close();
});

async function get(path: string, headers: Record<string, string> = { authorization: auth() }) {
  const answer = await request(`${url}${path}`, { headers });
  return {
    status: answer.statusCode,
    headers: answer.headers,
    text: await answer.body.text(),
  };
}

async function post(path: string, form: Record<string, string>, cookie?: string) {
  const answer = await request(`${url}${path}`, {
    method: 'POST',
    headers: {
      authorization: auth(),
      'content-type': 'application/x-www-form-urlencoded',
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  await answer.body.dump();
  return { status: answer.statusCode, location: answer.headers.location };
}

/**
 * A browser's first visit: the cookie it is given, the token its forms carry, and the holds a
 * confirmation form carries (what the page showed).
 */
async function session(path: string) {
  const page = await get(path);
  const cookie = String(page.headers['set-cookie']).split(';')[0]!;
  const token = /name="_csrf"\s+value="([^"]+)"/.exec(page.text)?.[1];
  expect(token).toBeDefined();
  const holds = /name="holds"\s+value="([^"]*)"/.exec(page.text)?.[1];
  return { cookie, token: token!, holds };
}

const cardCount = (text: string, label: string) =>
  Number(new RegExp(`data-count="${label}"[^>]*>\\s*<div class="n">(\\d+)`).exec(text)?.[1]);

const holdState = async (id: number) =>
  (await h.database.pool.query<{ state: string }>('select state from holds where id = $1', [id]))
    .rows[0]?.state;

async function hold(customerId: string): Promise<number> {
  const { rows } = await h.database.pool.query<{ id: string }>(
    `insert into holds (customer_id, action, created_at) values ($1, 'deactivate', now()) returning id`,
    [customerId],
  );
  return Number(rows[0]?.id);
}

describe('the console over HTTP', () => {
  it('asks for the dashboard login and sends its security headers', async () => {
    expect((await get('/console', {})).status).toBe(401);
    const wrong = `Basic ${Buffer.from('ops:nope').toString('base64')}`;
    expect((await get('/console', { authorization: wrong })).status).toBe(401);
    const page = await get('/console');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(String(page.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect(page.text).not.toContain(TOKEN);
    expect((await get('/console/assets/console.css')).text).toContain('.swatch-delete');
  });

  it('counts customers never synced as pending, and a deleted one with nothing to do as in step', async () => {
    const page = await get('/console');
    expect(cardCount(page.text, 'pending')).toBe(8); // two active, six paused
    expect(cardCount(page.text, 'in step')).toBe(1);
    expect(cardCount(page.text, 'failing')).toBe(0);
  });

  it('refuses a POST without a valid form token and changes nothing', async () => {
    const id = await hold('p1');
    const { cookie, token } = await session('/console/held/approve?target=all');
    const other = await session('/console/held/approve?target=all');
    expect((await post('/console/held/approve', { target: 'all' }, cookie)).status).toBe(403);
    expect((await post('/console/held/approve', { target: 'all', _csrf: token })).status).toBe(403);
    const forged = { target: 'all', _csrf: other.token };
    expect((await post('/console/held/approve', forged, cookie)).status).toBe(403);
    expect(await holdState(id)).toBe('held');

    const done = await post(
      '/console/held/approve',
      { target: `hold:${id}`, _csrf: token },
      cookie,
    );
    expect(done).toEqual({
      status: 303,
      location: '/console/held?approved=1&queued=1&dropped=0',
    });
    expect(await holdState(id)).toBe('approved');
    const { rows } = await h.database.pool.query(
      `select trigger, action, outcome, message from audit where customer_id = 'p1'`,
    );
    expect(rows).toEqual([
      {
        trigger: 'approve',
        action: 'deactivate',
        outcome: 'approved',
        message: `hold ${id} approved by console user "ops"`,
      },
    ]);
    const unknown = await post(
      '/console/held/approve',
      { target: 'hold:999999', _csrf: token },
      cookie,
    );
    expect(unknown.status).toBe(404);
  });

  it("shows why a sweep held its changes, and approves that sweep's", async () => {
    await h.database.pool.query(
      `insert into sweeps (id, trigger, started_at, outcome, counts)
       values ('sweep-held-1', 'schedule', now(), 'held', '{"linked": 3, "held": 1, "deactivate": 1}')`,
    );
    const { rows } = await h.database.pool.query<{ id: number }>(
      `insert into holds (sweep_id, customer_id, action, created_at)
       values ('sweep-held-1', 'c3', 'delete', now()) returning id::int`,
    );
    const page = await get('/console/held');
    expect(page.text).toMatch(/Held by sweep\s*<span class="mono">sweep-held-1<\/span>/);
    expect(page.text).toMatch(/for its 3 linked workspaces[^.]*so it held those \(1\)/);
    const { cookie, token, holds } = await session(
      '/console/held/approve?target=sweep%3Asweep-held-1',
    );
    expect(holds).toBe(String(rows[0]!.id));
    // The sweep's hold that a retaken run recorded after the page was shown is not released.
    const { rows: late } = await h.database.pool.query<{ id: number }>(
      `insert into holds (sweep_id, customer_id, action, created_at)
       values ('sweep-held-1', 'p2', 'deactivate', now()) returning id::int`,
    );
    const done = await post(
      '/console/held/approve',
      { target: 'sweep:sweep-held-1', holds: holds!, _csrf: token },
      cookie,
    );
    expect(done.status).toBe(303);
    expect(await holdState(rows[0]!.id)).toBe('approved');
    expect(await holdState(late[0]!.id)).toBe('held');
  });

  it('"Approve all" releases exactly the holds its confirmation showed, not those that appeared since', async () => {
    await h.database.pool.query(`update holds set state = 'void' where state = 'held'`);
    const shown = [await hold('p3'), await hold('p4')];
    const { cookie, token, holds } = await session('/console/held/approve?target=all');
    expect(holds?.split(',').map(Number)).toEqual(shown);
    const late = await hold('p5'); // held after the page was shown
    // A form that does not say what it showed releases nothing.
    const bare = await post('/console/held/approve', { target: 'all', _csrf: token }, cookie);
    expect(bare.status).toBe(400);
    expect(await holdState(shown[0]!)).toBe('held');

    const done = await post(
      '/console/held/approve',
      { target: 'all', holds: holds!, _csrf: token },
      cookie,
    );
    expect(done).toEqual({ status: 303, location: '/console/held?approved=2&queued=2&dropped=0' });
    for (const id of shown) expect(await holdState(id)).toBe('approved');
    expect(await holdState(late)).toBe('held');
  });

  it('records approvals from the CLI as the CLI', async () => {
    const id = await hold('p6');
    const app = h.app();
    await approve(app, { kind: 'hold', holdId: id });
    const { rows } = await h.database.pool.query(
      `select message from audit where customer_id = 'p6' and outcome = 'approved'`,
    );
    expect(rows).toEqual([{ message: `hold ${id} approved by cli` }]);
  });

  it('finds customers by id or name', async () => {
    const exact = await request(`${url}/console/customers?q=c1`, {
      headers: { authorization: auth() },
    });
    await exact.body.dump();
    expect(exact.statusCode).toBe(303);
    expect(exact.headers.location).toBe('/console/customers/c1');
    const none = await get('/console/customers?q=%25nobody%25');
    expect(none.text).toContain('No customer has that id');
    expect((await get('/console/customers/nobody')).status).toBe(404);
  });
});
