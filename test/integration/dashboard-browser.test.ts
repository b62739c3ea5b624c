/**
 * The queue dashboard in a real headless Chromium: its own page still reads and changes the
 * queues under the guard, and a page of another origin, in the same browser with the login
 * cached, cannot make it change anything.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findChromium } from '../support/chromium.js';
import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'board-browser-token-4e1d';
const CHROMIUM = findChromium();

describe.skipIf(!CHROMIUM)('the queue dashboard in a real browser', () => {
  let h: Harness;
  let url: string;
  let browser: Browser;
  let evil: Server;
  let evilUrl: string;

  beforeAll(async () => {
    h = await startHarness({ env: { DASHBOARD_TOKEN: TOKEN } });
    url = (await h.startDaemon({}, { WORKER_CONCURRENCY: '0' })).url;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    // Another origin (another port): a page whose script posts to the dashboard's API.
    evil = createServer((_req, res) => res.end('<!doctype html><title>another site</title>'));
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser?.close();
    evil?.close();
    await h?.close();
  });

  it('works from its own page, and refuses what another site makes the browser send', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: 'ops', password: TOKEN },
    });
    const page = await context.newPage();
    const listed = page.waitForResponse((r) => r.url().includes('/admin/queues/api/queues'));
    expect((await page.goto(`${url}/admin/queues`))?.status()).toBe(200);
    expect((await listed).status()).toBe(200);
    const { sync } = h.app().queues;
    const own = (path: string) =>
      page.evaluate(
        async (target) => (await fetch(target, { method: 'PUT' })).status,
        `${url}/admin/queues/api/queues/sync/${path}`,
      );
    expect(await own('pause')).toBe(200);
    expect(await sync.isPaused()).toBe(true);
    expect(await own('resume')).toBe(200);
    expect(await sync.isPaused()).toBe(false);

    // The login is cached for the dashboard's origin; another origin's page posts text/plain.
    const other = await context.newPage();
    await other.goto(evilUrl);
    await other.evaluate(async (target) => {
      await fetch(target, {
        method: 'POST',
        mode: 'no-cors',
        credentials: 'include',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ name: 'forged', data: { customerId: 'c1' } }),
      });
    }, `${url}/admin/queues/api/queues/sync/add`);
    await waitFor(() => h.logs.some((l) => l.includes('refused a change from another site')), {
      what: 'the forged request to be refused',
    });
    expect(await sync.count()).toBe(0);
    await context.close();
  });
});
