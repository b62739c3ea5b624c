/**
 * The list cursor, as the real API makes it today: base64 of `{"offset":N}`. Clients must treat it
 * as opaque; the simulator keeps the same encoding so a cursor seen in a log decodes the same way.
 */

/** Encodes an offset into the list as a cursor. */
export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

/**
 * The offset a cursor stands for, or undefined when it is not one of ours (bad base64, bad JSON,
 * or an offset that is not a whole number ≥ 0). Both base64 alphabets are read.
 */
export function decodeCursor(cursor: string): number | undefined {
  if (cursor.length === 0 || cursor.length > 200) return undefined;
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(cursor)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const offset = (parsed as { offset?: unknown }).offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  return offset;
}
