/**
 * No secret reaches a log line: values under secret-named keys are censored (to four levels, in
 * objects, arrays and child bindings), and a known secret or anything shaped like a JWT is
 * scrubbed from the finished line wherever it appears.
 */
import { describe, expect, it } from 'vitest';

import { createLogger, redactKeys } from '../../src/lib/logger.js';
import { logLines } from '../support/logLines.js';

const SECRET = 'client-secret-9d2f71';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

function capture() {
  const { lines, destination } = logLines();
  const logger = createLogger({ level: 'debug', destination, secrets: [SECRET] });
  return {
    logger,
    lines,
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('the logger', () => {
  it('censors secret-named keys at every level we log at, and leaves the rest', () => {
    const { logger, parsed } = capture();
    const object = {
      token: 't1',
      request: {
        headers: { authorization: 'Bearer x', 'webhook-signature': 'v1,abc', accept: 'json' },
        items: [{ secret: 's', name: 'kept' }],
      },
      a: { b: { c: { password: 'p' } } },
      customerId: 'c1',
    };
    logger.info(object, 'line');
    const [line] = parsed();
    expect(line).toMatchObject({
      token: '[redacted]',
      request: {
        headers: { authorization: '[redacted]', 'webhook-signature': '[redacted]', accept: 'json' },
        items: [{ secret: '[redacted]', name: 'kept' }],
      },
      a: { b: { c: { password: '[redacted]' } } },
      customerId: 'c1',
      msg: 'line',
    });
    // The caller's object is not touched.
    expect(object.token).toBe('t1');
    expect(object.request.headers.authorization).toBe('Bearer x');
  });

  it('censors child bindings too', () => {
    const { logger, parsed } = capture();
    logger.child({ clientSecret: 'x', jobId: 'j1' }).info('bound');
    expect(parsed()[0]).toMatchObject({ clientSecret: '[redacted]', jobId: 'j1' });
  });

  it('scrubs a known secret and any JWT wherever they appear, messages and errors included', () => {
    const { logger, lines } = capture();
    logger.warn({ reason: `upstream said ${SECRET}` }, `token was ${JWT}`);
    logger.error({ err: new Error(`refused ${JWT} with ${SECRET}`) }, 'failed');
    const text = lines.join('');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(JWT);
    expect(text.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it('returns the very object when nothing is secret, and copies only what it censors', () => {
    const clean = { a: { b: [1, { c: 'd' }] } };
    expect(redactKeys(clean)).toBe(clean);
    const mixed = { keep: { x: 1 }, hide: { token: 'y' } };
    const out = redactKeys(mixed) as typeof mixed;
    expect(out.keep).toBe(mixed.keep);
    expect(out.hide).toEqual({ token: '[redacted]' });
    expect(mixed.hide.token).toBe('y');
  });
});
