/**
 * The console's small pieces: escaping by default, the CSRF token, the approval target a form
 * names, the user name the audit records, and the sweep chart.
 */
import { describe, expect, it } from 'vitest';

import { approvedBy, consoleUser } from '../../src/console/auth.js';
import { sweepChart } from '../../src/console/chart.js';
import { createCsrf, readCookie } from '../../src/console/csrf.js';
import { html, raw } from '../../src/console/html.js';
import { parseTarget } from '../../src/console/routes/held.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('html', () => {
  it('escapes every interpolated value, including inside arrays, unless it is markup', () => {
    const name = `<script>alert("x")</script> & 'q'`;
    // prettier-ignore
    const out = html`<p title="${name}">${name}${[name, html`<b>${name}</b>`]}${raw('<i>ok</i>')}</p>`;
    expect(out.value).not.toContain('<script>');
    expect(out.value).toBe(
      `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;">` +
        `&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;`.repeat(2) +
        `<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;</b><i>ok</i></p>`,
    );
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
  });
});

describe('csrf', () => {
  const csrf = createCsrf('dashboard-token-1');
  it('accepts the token of the cookie nonce, and nothing else', () => {
    const nonce = csrf.nonce();
    expect(csrf.verify(nonce, csrf.token(nonce))).toBe(true);
    expect(csrf.verify(csrf.nonce(), csrf.token(nonce))).toBe(false);
    expect(csrf.verify(nonce, undefined)).toBe(false);
    expect(csrf.verify(undefined, csrf.token(nonce))).toBe(false);
    expect(csrf.verify(nonce, `${csrf.token(nonce)}x`)).toBe(false);
    // Another DASHBOARD_TOKEN mints other tokens: knowing the nonce is not enough.
    expect(csrf.verify(nonce, createCsrf('other').token(nonce))).toBe(false);
  });
  it('reads one cookie out of a header', () => {
    expect(readCookie('a=1; console_csrf=abc-_9; b=2', 'console_csrf')).toBe('abc-_9');
    expect(readCookie('xconsole_csrf=1', 'console_csrf')).toBeUndefined();
    expect(readCookie(undefined, 'console_csrf')).toBeUndefined();
  });
});

describe('approval targets and who approved', () => {
  it('reads hold:N, sweep:<id> and all, and refuses the rest', () => {
    expect(parseTarget('all')).toEqual({ kind: 'all' });
    expect(parseTarget('hold:12')).toEqual({ kind: 'hold', holdId: 12 });
    expect(parseTarget('sweep:5cce617e-f0d1')).toEqual({ kind: 'sweep', sweepId: '5cce617e-f0d1' });
    for (const bad of [undefined, '', 'hold:', 'hold:1x', 'sweep:', '12', 'ALL'])
      expect(parseTarget(bad)).toBeNull();
  });
  it('names the basic-auth user, cleaned, never the password', () => {
    expect(consoleUser(basic('alice', 's3cret'))).toBe('alice');
    expect(consoleUser(basic('', 's3cret'))).toBe('anonymous');
    expect(consoleUser(basic('a\u0000b\nc', 'x:y'))).toBe('abc');
    expect(consoleUser(basic('x'.repeat(200), 'p'))).toHaveLength(64);
    expect(consoleUser('Bearer s3cret')).toBe('bearer');
    expect(approvedBy('alice')).toBe('console user "alice"');
  });
});

describe('sweepChart', () => {
  const sweep = (id: string, durationMs: number, counts: Record<string, number>) => ({
    id,
    trigger: 'schedule',
    startedAt: '2026-11-29T12:00:00.000Z',
    finishedAt: null,
    durationMs,
    outcome: 'done',
    counts,
    error: null,
  });
  it('draws one column per sweep, oldest first, stacking changes by action', () => {
    const svg = sweepChart([
      sweep('new', 200, { pages: 2, create: 1, delete: 3 }),
      sweep('old', 100, { pages: 1 }),
    ]).value;
    const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
    // Three bands, each with one column per sweep, oldest on the left.
    expect(titles).toHaveLength(6);
    expect(titles[0]).toMatch(/100 ms, 1 pages, no changes/);
    expect(titles[1]).toMatch(/200 ms, 2 pages, create 1, delete 3/);
    expect(svg).toContain('max 200 ms');
    expect(svg).toContain('max 4 changes');
    expect(sweepChart([]).value).toContain('No sweep has run yet');
  });
});
