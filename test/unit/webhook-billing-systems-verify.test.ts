/** The billing systems' verifiers on their edges, at a set time (the routes are tested end to end). */
import { createHmac } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { createChargebeeVerifier } from '../../src/webhooks/chargebee.js';
import { createLagoVerifier } from '../../src/webhooks/lago.js';
import { verifyOrbSignature } from '../../src/webhooks/orb.js';
import { verifyPaddleSignature } from '../../src/webhooks/paddle.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const T = NOW / 1000;
const body = Buffer.from('{"event_id":"evt_1"}');
const hmac = (key: string, text: string) => createHmac('sha256', key).update(text).digest('hex');

describe('Paddle-Signature', () => {
  it('accepts any one of several h1 (secret rotation), and only within 5 s', () => {
    const h1 = hmac('new', `${T}:${body}`);
    const header = `ts=${T};h1=${hmac('old', `${T}:${body}`)};h1=${h1}`;
    // The time signed is reported: an event later than it by > 5 min is refused (400).
    const ok = { ok: true, signedAtMs: NOW };
    expect(verifyPaddleSignature(body, header, 'new', NOW)).toEqual(ok);
    expect(verifyPaddleSignature(body, header, 'new', NOW + 5_000)).toEqual(ok);
    expect(verifyPaddleSignature(body, header, 'new', NOW + 6_000).ok).toBe(false);
    expect(verifyPaddleSignature(body, header, 'new', NOW - 6_000).ok).toBe(false);
    expect(verifyPaddleSignature(body, `ts=${T}`, 'new', NOW).ok).toBe(false);
    expect(verifyPaddleSignature(body, ['a', 'b'], 'new', NOW).ok).toBe(false);
  });
});

describe('X-Orb-Signature', () => {
  it('signs the timestamp header as sent, zoned or not (UTC), within 5 minutes', () => {
    for (const ts of ['2026-11-28T12:05:00.000', '2026-11-28T12:05:00.000Z']) {
      const headers = {
        'x-orb-timestamp': ts,
        'x-orb-signature': `v1=${hmac('s', `v1:${ts}:${body}`)}`,
      };
      expect(verifyOrbSignature(body, headers, 's', NOW)).toEqual({ ok: true, signedAtMs: NOW });
      expect(verifyOrbSignature(body, headers, 's', NOW + 301_000).ok).toBe(false);
      expect(verifyOrbSignature(body, headers, 'other', NOW).ok).toBe(false);
    }
  });
});

describe('Chargebee basic auth', () => {
  it('takes a password holding a colon; refuses one credential right and one wrong', () => {
    const check = createChargebeeVerifier({ username: 'u', password: 'p:q' });
    const auth = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(check(auth('u:p:q'))).toEqual({ ok: true });
    expect(check(auth('u:p')).ok).toBe(false);
    expect(check(auth('x:p:q')).ok).toBe(false);
    expect(check(auth('u')).ok).toBe(false);
  });
});

describe('Lago', () => {
  it('is unconfigured with neither variable; HMAC refuses a signature that is not base64', () => {
    expect(createLagoVerifier(undefined, undefined)).toBeUndefined();
    const verify = createLagoVerifier('k', undefined)!;
    const good = createHmac('sha256', 'k').update(body).digest('base64');
    const headers = (sig: string) => ({
      'x-lago-signature': sig,
      'x-lago-signature-algorithm': 'hmac',
    });
    expect(verify(body, headers(good), NOW)).toEqual({ ok: true });
    expect(verify(body, headers(`${good}!`), NOW).ok).toBe(false);
    // Without the algorithm header Lago's default (JWT) is assumed: not configured here.
    expect(verify(body, { 'x-lago-signature': good }, NOW).ok).toBe(false);
  });
});
