/** Overview: the fleet by state, the breaker, the queue, and the last sweeps. */
import { ACTIONS } from '../../core/types.js';
import type { FleetCounts } from '../../ops/fleet.js';
import type { StatusReport } from '../../ops/status.js';
import { sweepChart } from '../chart.js';
import { type Html, html } from '../html.js';
import { CONSOLE_PATH, type PageContext, page, time } from '../layout.js';

export interface OverviewData {
  readonly fleet: FleetCounts;
  readonly status: StatusReport;
}

export function overviewPage(ctx: PageContext, { fleet, status }: OverviewData): Html {
  const card = (n: number, label: string, tone: string, href?: string) => {
    const inner = html`<div class="n">${n}</div>
      <div class="label">${label}</div>`;
    return href
      ? html`<a class="card ${tone}" href="${CONSOLE_PATH}${href}" data-count="${label}"
          >${inner}</a
        >`
      : html`<div class="card ${tone}" data-count="${label}">${inner}</div>`;
  };
  const breaker =
    status.breaker === 'open'
      ? html`<span class="pill bad">open</span> since ${time(status.breakerOpenedAt)}:
          ${status.breakerReason ?? ''} — the Agent Engine refused our credentials; no change is
          made until it closes`
      : html`<span class="pill ok">closed</span> <span class="muted">credentials accepted</span>`;
  const q = status.queue;
  const outage = status.sourceOutage;
  const body = html`<h1>Overview</h1>
    ${
      outage
        ? html`<div class="error" role="status" data-outage="${outage.reason}">
            <strong>Source outage (${outage.reason}):</strong> ${outage.message}
            <a href="${CONSOLE_PATH}/held">See the held changes</a>
          </div>`
        : ''
    }
    ${
      status.limitTripped
        ? html`<div class="error" role="status" data-limit-tripped>
            <strong>Mass-change limit tripped:</strong> changes it held wait for approval, and until
            they are approved (or go stale) every deactivation, delete and re-creation from a
            webhook, a direct write or an enqueue is held too.
            <a href="${CONSOLE_PATH}/held">See the held changes</a>
          </div>`
        : ''
    }
    <section class="cards" aria-label="Customers by state">
      ${card(fleet.inStep, 'in step', 'ok')}
      ${card(fleet.failing, 'failing', fleet.failing ? 'bad' : '', '/failed')}
      ${card(fleet.held, 'held', fleet.held ? 'warn' : '', '/held')}
      ${card(fleet.pending, 'pending', fleet.pending ? 'pending' : '')}
      ${card(fleet.orphans, 'orphans', '')}
    </section>
    <p class="muted">
      ${fleet.customers} customers. In step: the last sync succeeded and the row has not changed
      since. Pending: changed since, or not synced yet.
    </p>
    <h2>Breaker</h2>
    <p>${breaker}</p>
    <h2>Sync queue${q.paused ? html` <span class="pill warn">paused</span>` : ''}</h2>
    <table class="queue">
      <tr>
        ${(['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const).map((s) => html`<th class="num">${s}</th>`)}
      </tr>
      <tr>
        ${(['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const).map((s) => html`<td class="num">${q[s]}</td>`)}
      </tr>
    </table>
    <h2>Last sweeps</h2>
    ${sweepChart(status.sweeps)} ${sweepTable(status.sweeps.slice(0, 10))}
    ${orphanTable(status.orphans, fleet.orphans)}`;
  return page(ctx, 'overview', 'Overview', body);
}

function sweepTable(sweeps: StatusReport['sweeps']): Html {
  if (sweeps.length === 0) return html``;
  return html`<table>
    <tr>
      <th>sweep</th>
      <th>trigger</th>
      <th>started</th>
      <th class="num">took</th>
      <th class="num">pages</th>
      <th>outcome</th>
      <th>changes</th>
    </tr>
    ${sweeps.map(
      (s) =>
        html`<tr>
          <td class="mono">${s.id}</td>
          <td>${s.trigger}</td>
          <td>${time(s.startedAt)}</td>
          <td class="num">${s.durationMs === null ? '—' : `${s.durationMs} ms`}</td>
          <td class="num">${s.counts.pages ?? 0}</td>
          <td>
            <span
              class="pill ${s.outcome === 'done' || s.outcome === 'ok' ? 'ok' : s.outcome === 'held' ? 'warn' : s.outcome === 'failed' || s.outcome === 'incomplete' ? 'bad' : ''}"
              >${s.outcome}</span
            >
          </td>
          <td>
            ${
              ACTIONS.filter((a) => (s.counts[a] ?? 0) > 0)
                .map((a) => `${a} ${s.counts[a]}`)
                .join(', ') || 'none'
            }${s.error ? html`<br /><span class="muted">${s.error}</span>` : ''}
          </td>
        </tr>`,
    )}
  </table>`;
}

function orphanTable(orphans: StatusReport['orphans'], total: number): Html {
  if (orphans.length === 0) return html``;
  return html`<h2>Orphans</h2>
    <p class="muted">
      Workspaces linked to no customer, as of the last complete
      listing${
        total > orphans.length
          ? ` (the first ${orphans.length} of ${total}, by name; \`status --json\` lists them all)`
          : ''
      }.
    </p>
    <table>
      <tr>
        <th>workspace</th>
        <th>name</th>
        <th>status</th>
        <th>seen</th>
      </tr>
      ${orphans.map(
        (o) =>
          html`<tr>
            <td class="mono">${o.workspaceId}</td>
            <td>${o.name}</td>
            <td>${o.status}</td>
            <td>${time(o.seenAt)}</td>
          </tr>`,
      )}
    </table>`;
}
