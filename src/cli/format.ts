/** Plain-text helpers for the CLI's readable output: aligned tables, durations, times. */

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** `1.2s`, `340ms`, `3m05s`, `2h10m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An ISO time with how long ago it was: `2026-11-28T12:00:00Z (3m05s ago)`. */
export function formatTime(
  at: Date | string | number | null | undefined,
  now = Date.now(),
): string {
  if (at === null || at === undefined) return '—';
  const date = new Date(at);
  const iso = date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ago = now - date.getTime();
  return ago >= 0 ? `${iso} (${formatDuration(ago)} ago)` : iso;
}

/** A value for a table cell: `—` for nothing, JSON for objects. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** `from → to`, with `—` for a side that is absent. */
export const fromTo = (from: unknown, to: unknown) => `${cell(from)} → ${cell(to)}`;

/** `create 3, rename 1` from counts, in a stable order, skipping zeros. */
export function countList(counts: Record<string, number>, keys: readonly string[]): string {
  const parts = keys.filter((k) => (counts[k] ?? 0) > 0).map((k) => `${k} ${counts[k]}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** English plural for a count: `1 change`, `2 changes`. */
export const plural = (n: number, word: string, many = `${word}s`) =>
  `${n} ${n === 1 ? word : many}`;
