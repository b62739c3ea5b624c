/** The page around every console view: head, navigation, search box, notices. */
import { CSRF_FIELD } from './csrf.js';
import { type Html, html } from './html.js';

export const CONSOLE_PATH = '/console';

/** What every page needs from the request. */
export interface PageContext {
  /** The CSRF token for this browser's forms. */
  readonly csrf: string;
  readonly user: string;
  /** Held and failing counts for the navigation. */
  readonly nav?: { held: number; failing: number };
}

type Section = 'overview' | 'held' | 'failed' | 'customers';

export function page(
  ctx: PageContext,
  section: Section,
  title: string,
  body: Html,
  notice?: { kind: 'notice' | 'error'; text: string },
): Html {
  const link = (to: Section, href: string, label: string, count?: number) =>
    html`<a href="${CONSOLE_PATH}${href}" class="${to === section ? 'here' : ''}"
      >${label}${count ? ` (${count})` : ''}</a
    >`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · customer-sync console</title>
        <link rel="stylesheet" href="${CONSOLE_PATH}/assets/console.css" />
      </head>
      <body>
        <header>
          <a class="brand" href="${CONSOLE_PATH}">customer-sync</a>
          <nav>
            ${link('overview', '', 'Overview')}
            ${link('held', '/held', 'Held changes', ctx.nav?.held)}
            ${link('failed', '/failed', 'Failed syncs', ctx.nav?.failing)}
          </nav>
          <form method="get" action="${CONSOLE_PATH}/customers" role="search">
            <input
              type="search"
              name="q"
              placeholder="Customer id or name"
              aria-label="Customer id or name"
            />
            <button type="submit">Find</button>
          </form>
        </header>
        <main>
          ${notice ? html`<div class="${notice.kind}" role="status">${notice.text}</div>` : ''}
          ${body}
        </main>
        <script src="${CONSOLE_PATH}/assets/console.js"></script>
      </body>
    </html>`;
}

/** The hidden field every state-changing form carries. */
export const csrfField = (ctx: PageContext) =>
  html`<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf}" />`;

/** A time as `<time>` (the script turns it into "3 min ago", the exact time on hover). */
export const time = (at: Date | string | null | undefined) => {
  if (!at) return html`—`;
  const iso = (typeof at === 'string' ? new Date(at) : at).toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
};

/** A link to a customer's page: its name (when known) and its id. */
export const customerLink = (id: string | null, name?: string) => {
  if (id === null) return html`—`;
  const href = `${CONSOLE_PATH}/customers/${encodeURIComponent(id)}`;
  return name === undefined
    ? html`<a href="${href}">${id}</a>`
    : html`<a href="${href}">${name}</a> <span class="mono muted">${id}</span>`;
};
