/**
 * The operator's console in a real headless Chromium (Debian's, driven by playwright-core): the
 * demo's fleet after its first sweep, two deactivations held by the mass-change limit, the name
 * clash failing. Logs in, reads the counts, approves a held change and sees it on the simulator,
 * retries the failed sync, finds a customer; takes the screenshots README.md and the docs show.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedDemo } from '../../demo/seed.js';
import { queueSweep, waitForSweep } from '../../src/ops/sweep.js';
import { findChromium } from '../support/chromium.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

/**
 * Screenshots go to a temporary folder, so a test run leaves the tree as it was; with
 * UPDATE_SCREENSHOTS=1 they replace those under docs/ (README.md and docs/operating.md show them).
 */
const shotDir =
  process.env.UPDATE_SCREENSHOTS === '1' ? 'docs' : mkdtempSync(join(tmpdir(), 'console-'));
const shot = (name: string) => join(shotDir, name);

const TOKEN = 'console-token-5d2e9a';
const CHROMIUM = findChromium();
if (!CHROMIUM)
  process.stdout.write(
    'console browser tests skipped: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)\n',
  );

/** The demo customers deactivated by a direct write; the limit lets the first through. */
const DEACTIVATED = ['cus_006', 'cus_007', 'cus_008'];

describe.skipIf(!CHROMIUM)('the console in a real browser', () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let url: string;

  beforeAll(async () => {
    h = await startHarness({
      env: { DASHBOARD_TOKEN: TOKEN, MAX_DESTRUCTIVE_PER_SWEEP: '1', MAX_DESTRUCTIVE_SHARE: '1%' },
    });
    await seedDemo(h.database.pool, h.sim);
    const daemon = await h.startDaemon();
    url = daemon.url;
    const app = h.app();
    // A few sweeps, so the overview's chart has history: the first creates the fleet.
    for (let i = 0; i < 3; i++) {
      await waitForSweep(app, await queueSweep(app));
      await waitForIdle(daemon.app);
    }
    await h.database.pool.query(
      `update customers set status = 'inactive', updated_at = now() where id = any($1)`,
      [DEACTIVATED],
    );
    await waitFor(
      async () => {
        const { rows } = await h.database.pool.query(`select 1 from holds where state = 'held'`);
        return rows.length === 2;
      },
      { what: 'two held deactivations' },
    );
    await waitForIdle(daemon.app);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    context = await browser.newContext({
      httpCredentials: { username: 'alice', password: TOKEN },
      viewport: { width: 1200, height: 800 },
    });
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const count = (label: string) =>
    page.locator(`[data-count="${label}"] .n`).innerText().then(Number);

  it('asks for the dashboard login', async () => {
    for (const credentials of [undefined, { username: 'alice', password: 'wrong' }]) {
      const other = await browser.newContext(credentials ? { httpCredentials: credentials } : {});
      const answer = await other.request.get(`${url}/console`);
      expect(answer.status()).toBe(401);
      expect(answer.headers()['www-authenticate']).toMatch(/^Basic/);
      await other.close();
    }
  });

  it('shows the fleet by state, the breaker, the queue and the sweeps', async () => {
    const answer = await page.goto(`${url}/console`);
    expect(answer?.status()).toBe(200);
    expect(await count('in step')).toBe(45);
    expect(await count('failing')).toBe(1);
    expect(await count('held')).toBe(2);
    expect(await count('pending')).toBe(0);
    expect(await count('orphans')).toBe(1);
    const text = await page.locator('main').innerText();
    expect(text).toContain('48 customers.');
    expect(text).toMatch(/Breaker\s+closed/);
    expect(await page.locator('svg[role=img] rect').count()).toBeGreaterThan(3);
    expect(text).toContain('Legacy Pilot (no customer)');
    await page.screenshot({ path: shot('console-overview.png'), fullPage: true });
  });

  it('approves one held change after a confirmation, and the simulator sees it', async () => {
    await page.getByRole('link', { name: /Held changes/ }).click();
    const rows = page.locator('table.holds tr[data-hold]');
    expect(await rows.count()).toBe(2);
    expect(await page.locator('main').innerText()).toMatch(/rolling window/);
    await page.setViewportSize({ width: 1200, height: 440 });
    await page.screenshot({ path: shot('console-held.png') });
    await page.setViewportSize({ width: 1200, height: 800 });

    const first = rows.first();
    const customerId = (await first.getAttribute('data-customer')) ?? '';
    expect(DEACTIVATED).toContain(customerId);
    await first.getByRole('link', { name: 'Approve…' }).click();
    expect(await page.locator('h1').innerText()).toMatch(/^Approve hold \d+\?$/);
    expect(await page.locator('table.holds tr[data-hold]').count()).toBe(1);
    await page.getByRole('button', { name: 'Approve 1 change' }).click();
    expect(await page.locator('[role=status]').innerText()).toBe(
      'Approved 1 change; queued 1 syncs.',
    );
    expect(await page.locator('table.holds tr[data-hold]').count()).toBe(1);

    const { rows: names } = await h.database.pool.query<{ name: string }>(
      'select name from customers where id = $1',
      [customerId],
    );
    await waitFor(
      () => h.sim.store.list().find((w) => w.name === names[0]?.name)?.status === 'inactive',
      { what: 'the approved deactivation on the simulator' },
    );
    const { rows: audit } = await h.database.pool.query<{ message: string }>(
      `select message from audit where customer_id = $1 and outcome = 'approved'`,
      [customerId],
    );
    expect(audit.map((a) => a.message)).toEqual([
      expect.stringMatching(/^hold \d+ approved by console user "alice"$/),
    ]);
  });

  it('retries a failed sync', async () => {
    const before = await lastSyncAt('cus_acme_eu');
    await page.getByRole('link', { name: /Failed syncs/ }).click();
    const row = page.locator('tr[data-subject="cus_acme_eu"]');
    expect(await row.innerText()).toMatch(/claimed first by customer cus_001/);
    await row.getByRole('button', { name: 'Retry' }).click();
    expect(await page.locator('[role=status]').innerText()).toBe('Queued 1 sync again.');
    await waitFor(async () => (await lastSyncAt('cus_acme_eu')) > before, {
      what: 'the retried sync to run',
    });
  });

  it('finds a customer by name and shows what explain shows', async () => {
    await page.getByRole('searchbox').fill('Globex');
    await page.getByRole('searchbox').press('Enter');
    await page.waitForURL(/\/console\/customers\/cus_002$/);
    const { rows } = await h.database.pool.query<{ workspace_id: string }>(
      `select workspace_id from customer_links where customer_id = 'cus_002'`,
    );
    const text = await page.locator('main').innerText();
    expect(text).toContain(rows[0]!.workspace_id);
    expect(text).toMatch(/What a sync would do now\s+nothing in step/);
    expect(text).toMatch(/Audit trail[\s\S]*create/);
    expect(text).not.toContain(TOKEN);
  });

  it('refuses a POST without its form token, and prints names as text', async () => {
    const forged = await context.request.post(`${url}/console/failed/retry`, {
      form: { subject: 'cus_acme_eu' },
    });
    expect(forged.status()).toBe(403);
    await h.customers([{ id: 'cus_xss', name: '<img src=x onerror="window.pwned=1">' }]);
    await page.goto(`${url}/console/customers/cus_xss`);
    expect(await page.locator('h1').innerText()).toContain('<img src=x onerror="window.pwned=1">');
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
    expect(await page.locator('main img').count()).toBe(0);
  });

  async function lastSyncAt(subject: string): Promise<number> {
    const { rows } = await h.database.pool.query<{ at: Date }>(
      'select at from sync_state where subject = $1',
      [subject],
    );
    return rows[0]?.at.getTime() ?? 0;
  }
});
