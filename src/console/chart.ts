/**
 * The overview's chart of the last sweeps, as inline SVG (no script, no library): one column per
 * sweep, oldest on the left, in three bands that share it: how long it took, how many pages it
 * listed, and the changes it planned by action. Each bar's title says the exact figures.
 */
import { ACTIONS } from '../core/types.js';
import type { StatusReport } from '../ops/status.js';
import { type Html, html } from './html.js';

type Sweep = StatusReport['sweeps'][number];

export const ACTION_COLORS: Record<(typeof ACTIONS)[number], string> = {
  create: '#1a7f37',
  adopt: '#54aeff',
  rename: '#8250df',
  activate: '#4ac26b',
  deactivate: '#bf8700',
  delete: '#cf222e',
};

const WIDTH = 760;
const LEFT = 130;
/** The widest column, so a few sweeps sit together on the left rather than spread thin. */
const MAX_STEP = 40;
const BAND = 70;
const GAP = 22;

interface Segment {
  readonly value: number;
  readonly color: string;
}

/** One band: a label, its scale's top, and a stack of segments per sweep. */
function band(
  top: number,
  label: string,
  unit: string,
  columns: Segment[][],
  titles: string[],
): Html {
  const max = Math.max(1, ...columns.map((c) => c.reduce((a, s) => a + s.value, 0)));
  const step = columnStep(columns.length);
  const barWidth = Math.max(2, Math.min(28, step * 0.7));
  const bars = columns.map((segments, i) => {
    let y = top + BAND;
    const x = LEFT + i * step + (step - barWidth) / 2;
    const rects = segments
      .filter((s) => s.value > 0)
      .map((s) => {
        const h = Math.max(1, (s.value / max) * BAND);
        y -= h;
        return html`<rect
          x="${x.toFixed(1)}"
          y="${y.toFixed(1)}"
          width="${barWidth.toFixed(1)}"
          height="${h.toFixed(1)}"
          fill="${s.color}"
        ></rect>`;
      });
    return html`<g
      ><title>${titles[i] ?? ''}</title>${rects}<rect
        x="${(LEFT + i * step).toFixed(1)}"
        y="${top}"
        width="${step.toFixed(1)}"
        height="${BAND}"
        fill="transparent"
      ></rect
    ></g>`;
  });
  return html`<text x="0" y="${top + 12}" font-weight="600">${label}</text>
    <text x="0" y="${top + 28}" fill="#656d76" font-size="11">max ${formatMax(max, unit)}</text>
    <text x="${LEFT - 8}" y="${top + BAND}" text-anchor="end" fill="#656d76" font-size="11">0</text>
    <line
      x1="${LEFT}"
      x2="${WIDTH - 10}"
      y1="${top + BAND + 0.5}"
      y2="${top + BAND + 0.5}"
      stroke="#d0d7de"
    ></line>
    ${bars}`;
}

const columnStep = (n: number) => Math.min(MAX_STEP, (WIDTH - LEFT - 10) / Math.max(n, 1));

const formatMax = (max: number, unit: string) =>
  unit === 'ms' && max >= 1000 ? `${(max / 1000).toFixed(1)} s` : `${max} ${unit}`;

/** The chart, or a sentence when there is no sweep yet. `sweeps` come newest first. */
export function sweepChart(sweeps: readonly Sweep[]): Html {
  if (sweeps.length === 0) return html`<p class="muted">No sweep has run yet.</p>`;
  const ordered = [...sweeps].reverse();
  const titles = ordered.map((s) => {
    const changes = ACTIONS.filter((a) => (s.counts[a] ?? 0) > 0)
      .map((a) => `${a} ${s.counts[a]}`)
      .join(', ');
    const took = s.durationMs === null ? 'running' : `${s.durationMs} ms`;
    return `${s.startedAt} (${s.trigger}, ${s.outcome}): ${took}, ${s.counts.pages ?? 0} pages, ${changes || 'no changes'}`;
  });
  const height = 3 * (BAND + GAP) + 16;
  const first = ordered[0]?.startedAt ?? '';
  const last = ordered.at(-1)?.startedAt ?? '';
  return html`<div class="chart">
    <svg
      viewBox="0 0 ${WIDTH} ${height}"
      width="100%"
      role="img"
      aria-label="The last ${ordered.length} sweeps: duration, pages and changes by action"
      font-size="12"
      fill="#1f2328"
    >
      ${band(
        4,
        'duration',
        'ms',
        ordered.map((s) => [{ value: s.durationMs ?? 0, color: '#0969da' }]),
        titles,
      )}
      ${band(
        4 + BAND + GAP,
        'pages listed',
        'pages',
        ordered.map((s) => [{ value: s.counts.pages ?? 0, color: '#57606a' }]),
        titles,
      )}
      ${band(
        4 + 2 * (BAND + GAP),
        'changes',
        'changes',
        ordered.map((s) =>
          ACTIONS.map((a) => ({ value: s.counts[a] ?? 0, color: ACTION_COLORS[a] })),
        ),
        titles,
      )}
      <text x="${LEFT}" y="${height - 2}" fill="#656d76" font-size="11">
        ${ordered.length} sweeps, oldest on the left: ${shortTime(first)} → ${shortTime(last)}
      </text>
    </svg>
    <div class="legend">
      ${ACTIONS.map((a) => html`<span><i class="${`swatch-${a}`}"></i>${a}</span>`)}
    </div>
  </div>`;
}

const shortTime = (iso: string) => iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z');

/** Legend swatch colours, as CSS classes (the CSP allows no inline styles). */
export const LEGEND_CSS = ACTIONS.map(
  (a) => `.swatch-${a} { background: ${ACTION_COLORS[a]}; }`,
).join('\n');
