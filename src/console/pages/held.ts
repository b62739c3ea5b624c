/**
 * Held changes, grouped by what held them (a sweep, or the rolling window outside sweeps), with
 * why; approving one, a sweep's or all of them goes through a confirmation page first.
 */
import type { Policy } from '../../core/planner.js';
import { formatDuration } from '../../lib/duration.js';
import type { HeldChange, SweepRow } from '../../ops/held.js';
import { type Html, html } from '../html.js';
import { CONSOLE_PATH, type PageContext, csrfField, customerLink, page, time } from '../layout.js';

export interface HeldData {
  readonly held: readonly HeldChange[];
  /** The sweeps that held them, by id. */
  readonly sweeps: ReadonlyMap<string, SweepRow>;
  /** Customer names, by id. */
  readonly names: ReadonlyMap<string, string>;
  readonly policy: Pick<Policy, 'maxDestructivePerSweep' | 'maxDestructiveShare'>;
  readonly windowMs: number;
}

/** A target as the forms carry it: `hold:12`, `sweep:<id>` or `all`. */
export type TargetParam = string;

const approveLink = (target: TargetParam, label: string, primary = false) =>
  html`<a
    class="button${primary ? ' primary' : ''}"
    href="${CONSOLE_PATH}/held/approve?target=${encodeURIComponent(target)}"
    >${label}</a
  >`;

export function heldPage(
  ctx: PageContext,
  data: HeldData,
  notice?: { kind: 'notice' | 'error'; text: string },
): Html {
  const groups = new Map<string | null, HeldChange[]>();
  for (const h of data.held) groups.set(h.sweepId, [...(groups.get(h.sweepId) ?? []), h]);
  const outage = data.held.filter((h) => h.reason !== 'limit');
  const body = html`<h1>Held changes</h1>
    ${outage.length === 0 ? '' : outageBanner(outage)}
    ${
      data.held.length === 0
        ? html`<p>
            Nothing is held: no destructive change (deactivation, delete, re-creation) waits for
            approval.
          </p>`
        : html`<div class="actions">
            <span>${data.held.length} changes wait for approval.</span
            >${approveLink('all', 'Approve all…', true)}
          </div>`
    }
    ${[...groups].map(([sweepId, holds]) => group(sweepId, holds, data))}`;
  return page(ctx, 'held', 'Held changes', body, notice);
}

const OUTAGE_WHY: Record<string, string> = {
  'source-empty': 'the customers source returned no rows while workspaces were linked',
  'source-shrank':
    'the customers source returned far fewer rows than its size last accepted (more than MAX_DESTRUCTIVE_SHARE fewer)',
};

/** Why changes were held as a source outage, above everything else on the page. */
function outageBanner(holds: readonly HeldChange[]): Html {
  const reasons = [...new Set(holds.map((h) => h.reason))];
  return html`<div class="notice error" data-outage="${reasons.join(' ')}">
    <strong>Source outage:</strong> ${holds.length}
    ${holds.length === 1 ? 'change is' : 'changes are'} held because
    ${reasons.map((r) => OUTAGE_WHY[r] ?? r).join('; and ')}. A source that suddenly returns nothing
    is treated as an outage, not as a mass cancellation, whatever the fleet's size: if the rows come
    back, these holds are dropped; approving them says the smaller source is right (and accepts its
    size).
  </div>`;
}

function group(sweepId: string | null, holds: HeldChange[], data: HeldData): Html {
  const sweep = sweepId === null ? undefined : data.sweeps.get(sweepId);
  return html`<section class="hold-group">
    <h2>
      ${sweepId === null ? 'Held by the rolling window (outside a sweep)' : html`Held by sweep <span class="mono">${sweepId}</span>`}
    </h2>
    <p class="muted">
      ${holds.every((h) => h.reason !== 'limit') ? outageWhy(holds) : why(sweepId, sweep, data)}
    </p>
    ${sweepId === null ? '' : html`<div class="actions">${approveLink(`sweep:${sweepId}`, "Approve this sweep's changes…")}</div>`}
    ${holdTable(holds, data.names, true)}
  </section>`;
}

function why(sweepId: string | null, sweep: SweepRow | undefined, data: HeldData): string {
  const limit = `more than MAX_DESTRUCTIVE_PER_SWEEP=${data.policy.maxDestructivePerSweep} and more than MAX_DESTRUCTIVE_SHARE=${Math.round(data.policy.maxDestructiveShare * 100)}% of the linked workspaces`;
  if (sweepId === null)
    return `A webhook, a direct write or an enqueue asked for these while the deactivations, deletes and re-creations of the last ${formatDuration(data.windowMs)} (SWEEP_EVERY) were already past the limit (${limit}), or while changes the limit had held earlier still waited for approval: until they are approved, no destructive change from outside a sweep goes ahead by itself.`;
  if (!sweep)
    return `The sweep planned more deactivations, deletes and re-creations than the limit: ${limit}.`;
  const c = sweep.counts;
  return `This ${sweep.trigger} sweep, started ${sweep.startedAt.toISOString()}, planned more deactivations, deletes and re-creations than the limit for its ${c.linked ?? '?'} linked workspaces (${limit}), so it held those (${c.held ?? '?'}) and made the rest of its changes.`;
}

function outageWhy(holds: readonly HeldChange[]): string {
  const reasons = [...new Set(holds.map((h) => OUTAGE_WHY[h.reason] ?? h.reason))];
  return `Held as a source outage: ${reasons.join('; and ')}. These customers' rows left the source; their deactivations and deletes wait for a person, whatever the fleet's size.`;
}

/** The holds as a table; with `actions`, each row links to its own approval. */
export function holdTable(
  holds: readonly HeldChange[],
  names: ReadonlyMap<string, string>,
  actions: boolean,
): Html {
  return html`<table class="holds">
    <tr>
      <th class="num">hold</th>
      <th>customer</th>
      <th>action</th>
      <th>workspace</th>
      <th>held since</th>
      <th>why</th>
      ${actions ? html`<th></th>` : ''}
    </tr>
    ${holds.map(
      (h) =>
        html`<tr data-hold="${h.holdId}" data-customer="${h.customerId ?? ''}">
          <td class="num">${h.holdId}</td>
          <td>
            ${h.customerId === null ? html`<span class="muted">orphan</span>` : customerLink(h.customerId, names.get(h.customerId))}
          </td>
          <td><span class="pill ${h.action === 'delete' ? 'bad' : 'warn'}">${h.action}</span></td>
          <td class="mono">${h.workspaceId ?? '—'}</td>
          <td>${time(h.createdAt)}</td>
          <td data-reason="${h.reason}">
            ${h.reason === 'limit' ? 'mass-change limit' : html`<span class="pill bad">source outage</span>`}
          </td>
          ${actions ? html`<td>${approveLink(`hold:${h.holdId}`, 'Approve…')}</td>` : ''}
        </tr>`,
    )}
  </table>`;
}

/** The confirmation step: what exactly would be approved, and the one button that does it. */
export function confirmApprovalPage(
  ctx: PageContext,
  target: TargetParam,
  description: string,
  holds: readonly HeldChange[],
  names: ReadonlyMap<string, string>,
): Html {
  const body = html`<h1>Approve ${description}?</h1>
    ${
      holds.length === 0
        ? html`<p>
            Nothing is held there any more. <a href="${CONSOLE_PATH}/held">Back to held changes</a>
          </p>`
        : html`<div class="confirm">
            <p>
              ${holds.length === 1 ? 'This change' : `These ${holds.length} changes`}, and no other,
              will be released: one whose customer's current row no longer calls for it is dropped
              instead; each other customer is synced again, the sync re-checks that the change is
              still wanted, and then makes it on the Agent Engine. The audit records that
              <strong>${ctx.user}</strong> approved ${holds.length === 1 ? 'it' : 'them'}.
            </p>
            ${holdTable(holds, names, false)}
            <form method="post" action="${CONSOLE_PATH}/held/approve" class="actions">
              ${csrfField(ctx)}<input type="hidden" name="target" value="${target}" />
              <input type="hidden" name="holds" value="${holds.map((h) => h.holdId).join(',')}" />
              <button type="submit" class="danger">
                Approve ${holds.length} ${holds.length === 1 ? 'change' : 'changes'}
              </button>
              <a class="button" href="${CONSOLE_PATH}/held">Cancel</a>
            </form>
          </div>`
    }`;
  return page(ctx, 'held', 'Approve held changes', body);
}
