/** Signature verification on raw bytes: the published vectors, rotation, time and tampering. */
import { describe, expect, it } from 'vitest';

import { createStandardVerifier } from '../../src/webhooks/verifyStandard.js';
import { verifyStripeSignature } from '../../src/webhooks/verifyStripe.js';
import { newBillingSecret, signStandardWebhooks, signStripe } from '../support/webhookSigners.js';

// The Standard Webhooks spec's published example (standard-webhooks/spec, "Verifying").
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const vectorHeaders = {
  'webhook-id': VECTOR.id,
  'webhook-timestamp': String(VECTOR.timestamp),
  'webhook-signature': VECTOR.signature,
};
const at = (seconds: number) => seconds * 1000;

describe('Standard Webhooks', () => {
  const verify = createStandardVerifier([VECTOR.secret]);

  it('verifies the published example with the clock at its timestamp', () => {
    // And says what time the signature covers: an event later than that by > 5 min is refused.
    expect(verify(Buffer.from(VECTOR.body), vectorHeaders, at(VECTOR.timestamp))).toEqual({
      ok: true,
      signedAtMs: at(VECTOR.timestamp),
    });
  });

  it('accepts the timestamp up to 5 minutes either way, and not a second more', () => {
    const body = Buffer.from(VECTOR.body);
    expect(verify(body, vectorHeaders, at(VECTOR.timestamp + 300)).ok).toBe(true);
    expect(verify(body, vectorHeaders, at(VECTOR.timestamp - 300)).ok).toBe(true);
    expect(verify(body, vectorHeaders, at(VECTOR.timestamp + 301))).toEqual({
      ok: false,
      reason: 'timestamp outside tolerance',
    });
    expect(verify(body, vectorHeaders, at(VECTOR.timestamp - 301)).ok).toBe(false);
  });

  it('refuses a flipped byte, another id, a wrong secret and missing headers', () => {
    const now = at(VECTOR.timestamp);
    expect(verify(Buffer.from('{"test": 2432232315}'), vectorHeaders, now).ok).toBe(false);
    expect(
      verify(Buffer.from(VECTOR.body), { ...vectorHeaders, 'webhook-id': 'msg_x' }, now).ok,
    ).toBe(false);
    const other = createStandardVerifier([newBillingSecret()]);
    expect(other(Buffer.from(VECTOR.body), vectorHeaders, now).ok).toBe(false);
    for (const name of Object.keys(vectorHeaders)) {
      const headers: Record<string, string> = { ...vectorHeaders };
      delete headers[name];
      expect(verify(Buffer.from(VECTOR.body), headers, now)).toEqual({
        ok: false,
        reason: 'missing webhook headers',
      });
    }
  });

  it('tries every secret (rotation) and every offered v1 signature', () => {
    const rotated = createStandardVerifier([newBillingSecret(), VECTOR.secret]);
    const offered = {
      ...vectorHeaders,
      'webhook-signature': `v2,abc v1,bm9wZQ== ${VECTOR.signature}`,
    };
    expect(rotated(Buffer.from(VECTOR.body), offered, at(VECTOR.timestamp)).ok).toBe(true);
  });

  it('agrees with a signer written from the spec, on bytes that are not ASCII', () => {
    const secret = newBillingSecret();
    const body = Buffer.from('{"data":{"name":"Zoë ☃"}}');
    const headers = signStandardWebhooks(secret, body, { timestamp: 1_800_000_000 });
    expect(createStandardVerifier([secret])(body, headers, at(1_800_000_000)).ok).toBe(true);
  });

  it('refuses a timestamp that is not a plain number', () => {
    const headers = { ...vectorHeaders, 'webhook-timestamp': `${VECTOR.timestamp}abc` };
    expect(verify(Buffer.from(VECTOR.body), headers, at(VECTOR.timestamp)).ok).toBe(false);
  });
});

describe('Stripe-Signature', () => {
  const secret = 'whsec_stripe_test_4eC39HqLyjWDarjtT1zdp7dc';
  const body = Buffer.from('{"id":"evt_1","type":"customer.created"}');
  const t = 1_800_000_000;

  it("verifies Stripe's documented scheme", () => {
    const header = signStripe(secret, body, t)['stripe-signature'];
    expect(verifyStripeSignature(body, header, secret, at(t))).toEqual({
      ok: true,
      signedAtMs: at(t),
    });
  });

  it('accepts any of several v1 signatures and ignores v0', () => {
    const good = signStripe(secret, body, t)['stripe-signature']?.split(',')[1];
    const header = `t=${t},v0=${'0'.repeat(64)},v1=${'a'.repeat(64)},${good}`;
    expect(verifyStripeSignature(body, header, secret, at(t)).ok).toBe(true);
  });

  it('refuses tampering, a wrong secret, stale or future time, and a missing header', () => {
    const header = signStripe(secret, body, t)['stripe-signature'];
    const flipped = Buffer.from(body);
    flipped[5] = (flipped[5] ?? 0) ^ 1;
    expect(verifyStripeSignature(flipped, header, secret, at(t)).ok).toBe(false);
    expect(verifyStripeSignature(body, header, `${secret}x`, at(t)).ok).toBe(false);
    expect(verifyStripeSignature(body, header, secret, at(t + 301)).ok).toBe(false);
    expect(verifyStripeSignature(body, header, secret, at(t - 301)).ok).toBe(false);
    expect(verifyStripeSignature(body, header, secret, at(t + 300)).ok).toBe(true);
    expect(verifyStripeSignature(body, undefined, secret, at(t)).ok).toBe(false);
    expect(verifyStripeSignature(body, 'garbage', secret, at(t)).ok).toBe(false);
    expect(verifyStripeSignature(body, `t=${t}`, secret, at(t)).ok).toBe(false);
  });
});
