import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { type Harness, startHarness } from '../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const TOKEN = 'board-token-7c1e-2f9a';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the queue dashboard at /admin/queues', () => {
  it('asks for the token, and serves the board and its API to whoever has it', async () => {
    h = await startHarness({ env: { DASHBOARD_TOKEN: 'board-token-7c1e' } });
    const { url } = await h.startDaemon();
    const anonymous = await request(`${url}/admin/queues`);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toContain('Basic');
    await anonymous.body.dump();
    const wrong = await request(`${url}/admin/queues`, {
      headers: { authorization: basic('ops', 'nope') },
    });
    expect(wrong.statusCode).toBe(401);
    await wrong.body.dump();

    const page = await request(`${url}/admin/queues`, {
      headers: { authorization: basic('ops', 'board-token-7c1e') },
    });
    expect(page.statusCode).toBe(200);
    expect(await page.body.text()).toContain('<html');
    const api = await request(`${url}/admin/queues/api/queues`, {
      headers: { authorization: 'Bearer board-token-7c1e' },
    });
    expect(api.statusCode).toBe(200);
    const body = (await api.body.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['due', 'sweep', 'sync']);
  });

  it('forbids framing and caching of the board, its API and its refusals', async () => {
    h = await startHarness({ env: { DASHBOARD_TOKEN: TOKEN } });
    const { url } = await h.startDaemon({}, { WORKER_CONCURRENCY: '0' });
    for (const [path, authorization] of [
      ['/admin/queues', basic('ops', TOKEN)],
      ['/admin/queues/api/queues', `Bearer ${TOKEN}`],
      ['/admin/queues', undefined],
    ] as const) {
      const answer = await request(`${url}${path}`, {
        headers: authorization ? { authorization } : {},
      });
      await answer.body.dump();
      expect(answer.statusCode, path).toBe(authorization ? 200 : 401);
      expect(answer.headers['x-frame-options'], path).toBe('DENY');
      expect(String(answer.headers['content-security-policy']), path).toContain(
        "frame-ancestors 'none'",
      );
      expect(answer.headers['cache-control'], path).toBe('no-store');
    }
  });

  it('refuses a change another site makes the browser send with its cached login', async () => {
    h = await startHarness({ env: { DASHBOARD_TOKEN: TOKEN } });
    const { url } = await h.startDaemon({}, { WORKER_CONCURRENCY: '0' });
    const { sync } = h.app().queues;
    const send = async (method: 'POST' | 'PUT', path: string, headers: Record<string, string>) => {
      const answer = await request(`${url}/admin/queues/api/queues/sync/${path}`, {
        method,
        headers: { authorization: basic('ops', TOKEN), ...headers },
        ...(method === 'POST' ? { body: '{"name":"forged","data":{"customerId":"c1"}}' } : {}),
      });
      await answer.body.dump();
      return answer.statusCode;
    };
    // A cross-site form: text/plain needs no preflight, and the browser adds its basic auth.
    const form = { 'content-type': 'text/plain', origin: 'https://evil.example' };
    expect(await send('PUT', 'pause', { origin: 'https://evil.example' })).toBe(403);
    expect(await send('PUT', 'pause', { 'sec-fetch-site': 'cross-site' })).toBe(403);
    expect(await send('PUT', 'pause', { 'sec-fetch-site': 'same-site' })).toBe(403);
    expect(await send('PUT', 'pause', { origin: 'null' })).toBe(403);
    expect(await send('POST', 'add', { ...form, 'sec-fetch-site': 'cross-site' })).toBe(403);
    expect(await send('POST', 'add', form)).toBe(403);
    expect(await sync.count()).toBe(0);
    expect(await sync.isPaused()).toBe(false);

    // The board's own page, and a script without a browser (no Origin), still act.
    expect(await send('PUT', 'pause', { 'sec-fetch-site': 'same-origin', origin: url })).toBe(200);
    expect(await sync.isPaused()).toBe(true);
    expect(await send('PUT', 'resume', { origin: url })).toBe(200);
    expect(await send('PUT', 'pause', {})).toBe(200);
    expect(await send('PUT', 'resume', {})).toBe(200);
    expect(await sync.isPaused()).toBe(false);
    // Reading is no change: another site may ask, but CORS keeps the answer from it.
    const read = await request(`${url}/admin/queues/api/queues`, {
      headers: { authorization: basic('ops', TOKEN), 'sec-fetch-site': 'cross-site' },
    });
    await read.body.dump();
    expect(read.statusCode).toBe(200);
  });

  it('answers 429 with Retry-After after repeated failed logins, on the board and the console', async () => {
    h = await startHarness({ env: { DASHBOARD_TOKEN: TOKEN } });
    const { url } = await h.startDaemon({}, { WORKER_CONCURRENCY: '0' });
    const status = async (path: string, authorization?: string) => {
      const answer = await request(`${url}${path}`, {
        headers: authorization ? { authorization } : {},
      });
      await answer.body.dump();
      return { code: answer.statusCode, retryAfter: answer.headers['retry-after'] };
    };
    // A browser's first visit carries no credentials: a prompt, not a failed login.
    for (let i = 0; i < 30; i++) expect((await status('/admin/queues')).code).toBe(401);
    let failures = 0;
    let answer = await status('/console', basic('ops', 'wrong-password-0'));
    while (answer.code === 401 && failures < 50) {
      failures += 1;
      const path = failures % 2 === 0 ? '/console' : '/admin/queues';
      answer = await status(path, basic('ops', `wrong-password-${failures}`));
    }
    expect(answer.code, `after ${failures} failed logins`).toBe(429);
    expect(failures).toBeGreaterThanOrEqual(5);
    expect(failures).toBeLessThanOrEqual(20);
    // Limited: even the right token waits, on both, and the answer says how long.
    for (const path of ['/admin/queues', '/console']) {
      const limited = await status(path, basic('ops', TOKEN));
      expect(limited.code, path).toBe(429);
      expect(Number(limited.retryAfter), path).toBeGreaterThan(0);
      expect(Number(limited.retryAfter), path).toBeLessThanOrEqual(15 * 60);
    }
    // The webhooks and health routes are not behind the login: unaffected.
    expect((await status('/healthz')).code).toBe(200);
  });

  it('behind a trusted proxy (TRUST_PROXY), counts failed logins per client, not per proxy', async () => {
    h = await startHarness({ env: { DASHBOARD_TOKEN: TOKEN, TRUST_PROXY: '127.0.0.1' } });
    const { url } = await h.startDaemon({}, { WORKER_CONCURRENCY: '0' });
    const login = async (client: string, password: string) => {
      const answer = await request(`${url}/console`, {
        headers: { authorization: basic('ops', password), 'x-forwarded-for': client },
      });
      await answer.body.dump();
      return answer.statusCode;
    };
    // Someone guesses from one address until refused …
    let code = 401;
    for (let i = 0; code === 401 && i < 50; i++) code = await login('203.0.113.7', `guess-${i}`);
    expect(code).toBe(429);
    // … the operator, another client behind the same proxy, still logs in.
    expect(await login('198.51.100.20', TOKEN)).toBe(200);
    expect(await login('203.0.113.7', TOKEN)).toBe(429);
  });

  it('without TRUST_PROXY, believes no X-Forwarded-For: a client cannot name itself anew', async () => {
    h = await startHarness({ env: { DASHBOARD_TOKEN: TOKEN } });
    const { url } = await h.startDaemon({}, { WORKER_CONCURRENCY: '0' });
    let code = 401;
    for (let i = 0; code === 401 && i < 50; i++) {
      const answer = await request(`${url}/console`, {
        headers: { authorization: basic('ops', `guess-${i}`), 'x-forwarded-for': `192.0.2.${i}` },
      });
      await answer.body.dump();
      code = answer.statusCode;
    }
    expect(code).toBe(429);
  });

  it('is off when no token is configured', async () => {
    h = await startHarness();
    const { url } = await h.startDaemon();
    const answer = await request(`${url}/admin/queues`);
    expect(answer.statusCode).toBe(404);
    await answer.body.dump();
  });
});
