/**
 * Stripe signature verification (https://docs.stripe.com/webhooks#verify-manually): the
 * `Stripe-Signature` header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (other schemes such as
 * `v0` are ignored), each `v1` an HMAC-SHA256 of `${t}.${rawBody}` keyed with the endpoint secret
 * as is. Compared in constant time; the timestamp must be within 300 s either way.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import type { Verdict } from './types.js';
import { SIGNATURE_TOLERANCE_SECONDS, single } from './verifyStandard.js';

/** Checks a raw body against a `Stripe-Signature` header at a time (ms). */
export function verifyStripeSignature(
  raw: Buffer,
  header: string | string[] | undefined,
  secret: string,
  nowMs: number,
): Verdict {
  const value = single(header);
  if (!value) return { ok: false, reason: 'missing Stripe-Signature' };
  let timestamp: string | undefined;
  const offered: Buffer[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (key === 't') timestamp = val;
    if (key === 'v1' && /^[0-9a-f]{64}$/i.test(val)) offered.push(Buffer.from(val, 'hex'));
  }
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: 'invalid Stripe-Signature timestamp' };
  }
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest();
  if (!offered.some((sig) => timingSafeEqual(sig, expected))) {
    return { ok: false, reason: 'no matching signature' };
  }
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'timestamp outside tolerance' };
  }
  return { ok: true, signedAtMs: Number(timestamp) * 1000 };
}
