/** Failed syncs: whose last sync failed, why, after how many attempts, when; retry one or all. */
import type { FailedSync } from '../../ops/failed.js';
import { type Html, html } from '../html.js';
import { CONSOLE_PATH, type PageContext, csrfField, customerLink, page, time } from '../layout.js';

const retryForm = (ctx: PageContext, subject: string | null, label: string, primary = false) =>
  html`<form method="post" action="${CONSOLE_PATH}/failed/retry" class="inline">
    ${csrfField(ctx)}${
      subject === null ? '' : html`<input type="hidden" name="subject" value="${subject}" />`
    }<button type="submit" ${primary ? html` class="primary"` : ''}>${label}</button>
  </form>`;

/** An orphan's subject is `workspace:<id>`; a customer's is its id. */
const subjectCell = (subject: string, names: ReadonlyMap<string, string>) =>
  subject.startsWith('workspace:')
    ? html`<span class="muted">orphan</span>
        <span class="mono">${subject.slice('workspace:'.length)}</span>`
    : customerLink(subject, names.get(subject));

export function failedPage(
  ctx: PageContext,
  failed: readonly FailedSync[],
  names: ReadonlyMap<string, string>,
  notice?: { kind: 'notice' | 'error'; text: string },
): Html {
  const body = html`<h1>Failed syncs</h1>
    ${
      failed.length === 0
        ? html`<p>No sync is failing.</p>`
        : html`<div class="actions">
              <span>${failed.length} ${failed.length === 1 ? 'sync is' : 'syncs are'} failing.</span
              >${retryForm(ctx, null, 'Retry all', true)}
            </div>
            <table class="failed">
              <tr>
                <th>customer</th>
                <th>kind</th>
                <th>reason</th>
                <th class="num">attempts</th>
                <th>when</th>
                <th></th>
              </tr>
              ${failed.map(
                (f) =>
                  html`<tr data-subject="${f.customerId}">
                    <td>${subjectCell(f.customerId, names)}</td>
                    <td><span class="pill bad">${f.kind || 'failed'}</span></td>
                    <td>${f.reason}</td>
                    <td class="num">${f.attempts}</td>
                    <td>${time(f.at)}</td>
                    <td>${retryForm(ctx, f.customerId, 'Retry')}</td>
                  </tr>`,
              )}
            </table>`
    }
    <p class="muted">
      permanent: the Agent Engine refused the change (fix the cause, then retry); retryable: out of
      attempts; auth: the credentials were refused (see the breaker).
    </p>`;
  return page(ctx, 'failed', 'Failed syncs', body, notice);
}
