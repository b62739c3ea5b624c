/** Time units in milliseconds: write `15 * MINUTE`, never a bare number. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY };

/**
 * Reads `0`, `250ms`, `30s`, `15m`, `1h`, `7d` (a whole or decimal number and one unit) into
 * milliseconds. Returns undefined for anything else, so the caller can name the variable.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(trimmed);
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * (UNITS[unit as string] as number));
}

/** A rate as calls per window: `10/s`, `600/m`. */
export interface Rate {
  readonly max: number;
  readonly perMs: number;
}

export function parseRate(text: string): Rate | undefined {
  const match = /^(\d+)\/(s|m)$/.exec(text.trim());
  if (!match) return undefined;
  const max = Number(match[1]);
  if (max < 1) return undefined;
  return { max, perMs: match[2] === 's' ? SECOND : MINUTE };
}

/** `1500` → `1.5s`, for messages. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % DAY === 0) return `${ms / DAY}d`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  if (ms >= SECOND) return `${(ms / SECOND).toFixed(ms % SECOND === 0 ? 0 : 1)}s`;
  return `${ms}ms`;
}
