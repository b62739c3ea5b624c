/** A customer's page (what `explain` says) and the search results. */
import { describeRegion } from '../../core/region.js';
import type { Explanation } from '../../ops/explain.js';
import type { CustomerMatch } from '../../ops/fleet.js';
import { type Html, html } from '../html.js';
import { CONSOLE_PATH, type PageContext, csrfField, customerLink, page, time } from '../layout.js';

const json = (value: unknown) =>
  value === null || value === undefined ? '—' : JSON.stringify(value);

export function customerPage(
  ctx: PageContext,
  e: Explanation,
  notice?: { kind: 'notice' | 'error'; text: string },
): Html {
  const { customer: c } = e;
  const named = c.name.trim() !== '';
  const body = html`<h1>${named ? c.name : 'No name'} <span class="muted mono">${c.id}</span></h1>
    <div class="actions">
      <form
        method="post"
        action="${CONSOLE_PATH}/customers/${encodeURIComponent(c.id)}/sync"
        class="inline"
      >
        ${csrfField(ctx)}<button type="submit">Sync now</button>
      </form>
      ${adoptForm(ctx, e)}
    </div>
    <h2>Customer</h2>
    <dl class="kv">
      <dt>id</dt>
      <dd class="mono">${c.id}</dd>
      <dt>name</dt>
      <dd>${named ? c.name : html`<span class="muted">none</span>`}</dd>
      <dt>status</dt>
      <dd>${c.status}</dd>
      <dt>created</dt>
      <dd>${time(c.createdAt === null ? null : new Date(c.createdAt))}</dd>
      <dt>region</dt>
      <dd>${regionLine(e)}</dd>
    </dl>
    <h2>Link</h2>
    ${linkList(e)}
    <h2>Workspace, as the Agent Engine shows it now</h2>
    ${workspaceList(e)}
    <h2>What a sync would do now</h2>
    ${wouldDo(e)}
    <h2>Last sync</h2>
    ${lastSyncLine(e)} ${holdsList(e)}
    <h2>Audit trail</h2>
    ${auditTable(e)}`;
  return page(ctx, 'customers', named ? c.name : c.id, body, notice);
}

/** The link's fields, or that there is none. */
function linkList(e: Explanation): Html {
  const { link } = e;
  return link
    ? html`<dl class="kv">
        <dt>workspace id</dt>
        <dd class="mono">${link.workspaceId}</dd>
        <dt>name last seen</dt>
        <dd>${link.workspaceName}</dd>
        ${
          link.deletedSeenAt
            ? html`<dt>seen deleted</dt>
                <dd>${time(new Date(link.deletedSeenAt))}</dd>`
            : ''
        }
        ${
          link.deleteDueAt
            ? html`<dt>delete due</dt>
                <dd>${time(new Date(link.deleteDueAt))}</dd>`
            : ''
        }
      </dl>`
    : html`<p class="muted">No workspace is linked.</p>`;
}

/** The workspace as the Agent Engine shows it now, or that it is gone or there is none. */
function workspaceList(e: Explanation): Html {
  const { link, workspace: w } = e;
  return w
    ? html`<dl class="kv">
        <dt>name</dt>
        <dd>${w.name}</dd>
        <dt>status</dt>
        <dd>${w.status}</dd>
        <dt>updated</dt>
        <dd>${time(w.updatedAt)}</dd>
        <dt>created</dt>
        <dd>${time(w.createdAt)}</dd>
      </dl>`
    : html`<p class="muted">${link ? 'The linked workspace is gone.' : 'None.'}</p>`;
}

/** The last sync's outcome, when and in how many attempts, or that there was none. */
function lastSyncLine(e: Explanation): Html {
  const { lastSync } = e;
  return lastSync
    ? html`<p>
        <span
          class="pill ${lastSync.outcome === 'ok' ? 'ok' : lastSync.outcome === 'failed' ? 'bad' : 'warn'}"
          >${lastSync.outcome}</span
        >
        ${time(lastSync.at)}, ${lastSync.attempts}
        ${lastSync.attempts === 1 ? 'attempt' : 'attempts'}${lastSync.reason ? html` — ${lastSync.kind ?? ''}: ${lastSync.reason}` : ''}
      </p>`
    : html`<p class="muted">Never synced.</p>`;
}

/** The customer's open holds, each with a link to the held changes, or nothing. */
function holdsList(e: Explanation): Html | string {
  return e.holds.length
    ? html`<h2>Open holds</h2>
        <ul>
          ${e.holds.map((h) => html`<li>hold ${h.holdId}: ${h.action}${h.sweepId ? html` (sweep <span class="mono">${h.sweepId}</span>)` : ' (rolling window)'} — <a href="${CONSOLE_PATH}/held">held changes</a></li>`)}
        </ul>`
    : '';
}

/**
 * A person's adoption, for a customer with no workspace linked: of the reported orphan of its name
 * when there is one (a sync will not adopt it), else of the unlinked workspace of its name.
 */
function adoptForm(ctx: PageContext, e: Explanation): Html | string {
  if (e.link || e.customer.status === 'deleted') return '';
  return html`<form
    method="post"
    action="${CONSOLE_PATH}/customers/${encodeURIComponent(e.customer.id)}/adopt"
    class="inline"
  >
    ${csrfField(ctx)}${
      e.adoptable
        ? html`<input type="hidden" name="workspaceId" value="${e.adoptable}" /><button
              type="submit"
            >
              Adopt workspace <span class="mono">${e.adoptable}</span>
            </button>`
        : html`<button type="submit">Adopt the workspace of its name</button>`
    }
  </form>`;
}

/** The region, with a warning pill when the workspace lives elsewhere than the row wants. */
function regionLine(e: Explanation): Html {
  const text = describeRegion(e.region, e.link !== null);
  if (e.region.mismatch)
    return html`<span class="pill warn region-mismatch">region mismatch</span> ${text}`;
  if (e.region.problem) return html`<span class="pill bad">bad region</span> ${text}`;
  return html`${text}`;
}

function wouldDo(e: Explanation): Html {
  const { changes, conflict } = e.wouldDo;
  if (conflict)
    return html`<p class="would-do"><span class="pill bad">conflict</span> ${conflict.reason}</p>`;
  if (changes.length === 0)
    return html`<p class="would-do"><span class="pill ok">nothing</span> in step</p>`;
  return html`<ul class="would-do">
    ${changes.map((ch) => html`<li><strong>${ch.action}</strong> ${ch.from ?? '—'} → ${ch.to ?? '—'}${ch.workspaceId ? html` <span class="mono muted">${ch.workspaceId}</span>` : ''}</li>`)}
  </ul>`;
}

function auditTable(e: Explanation): Html {
  if (e.audit.length === 0) return html`<p class="muted">No change recorded yet.</p>`;
  return html`<table class="audit">
    <tr>
      <th>when</th>
      <th>trigger</th>
      <th>action</th>
      <th>before → after</th>
      <th>outcome</th>
      <th class="num">attempts</th>
      <th>message</th>
    </tr>
    ${e.audit.map(
      (a) =>
        html`<tr>
          <td>${time(a.at)}</td>
          <td>${a.trigger}</td>
          <td>${a.action}</td>
          <td class="mono">${json(a.before)} → ${json(a.after)}</td>
          <td>
            <span
              class="pill ${a.outcome === 'ok' || a.outcome === 'approved' ? 'ok' : a.outcome === 'failed' ? 'bad' : 'warn'}"
              >${a.outcome}</span
            >
          </td>
          <td class="num">${a.attempts}</td>
          <td>${a.message ?? ''}</td>
        </tr>`,
    )}
  </table>`;
}

export function searchPage(
  ctx: PageContext,
  query: string,
  matches: readonly CustomerMatch[],
): Html {
  const body = html`<h1>Customers matching “${query}”</h1>
    ${
      matches.length === 0
        ? html`<p>No customer has that id, or a name containing it.</p>`
        : html`<table>
            <tr>
              <th>id</th>
              <th>name</th>
              <th>status</th>
              <th>workspace</th>
            </tr>
            ${matches.map(
              (m) =>
                html`<tr>
                  <td>${customerLink(m.id)}</td>
                  <td>${m.name}</td>
                  <td>${m.status}</td>
                  <td class="mono">${m.workspaceId ?? '—'}</td>
                </tr>`,
            )}
          </table>`
    }`;
  return page(ctx, 'customers', 'Customers', body);
}

/** When the customer exists but the Agent Engine could not be asked. */
export function customerUnavailablePage(ctx: PageContext, id: string, reason: string): Html {
  return page(
    ctx,
    'customers',
    id,
    html`<h1 class="mono">${id}</h1>
      <p>
        The Agent Engine could not be asked about this customer's workspace, so what a sync would do
        is unknown: ${reason}
      </p>`,
    { kind: 'error', text: 'Agent Engine unavailable' },
  );
}
