import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { type Harness, startHarness } from '../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

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

  it('is off when no token is configured', async () => {
    h = await startHarness();
    const { url } = await h.startDaemon();
    const answer = await request(`${url}/admin/queues`);
    expect(answer.statusCode).toBe(404);
    await answer.body.dump();
  });
});
