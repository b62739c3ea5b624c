/**
 * Every webhook route, one sender each: the path, how a delivery is verified (undefined → 503)
 * and how a verified body becomes the normalized event the shared ingest takes.
 */
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import { parseGenericEvent } from './genericEvents.js';
import { chargebeeSender } from './chargebee.js';
import { lagoSender } from './lago.js';
import { orbSender } from './orb.js';
import { paddleSender } from './paddle.js';
import { polarSender } from './polar.js';
import { parseStripeEvent } from './stripe.js';
import type { Sender } from './types.js';
import { createStandardVerifier, standardHeaders } from './verifyStandard.js';
import { verifyStripeSignature } from './verifyStripe.js';

export function sendersOf(config: Config, clock: Clock): Sender[] {
  const billing = config.billingWebhookSecrets.length
    ? createStandardVerifier(config.billingWebhookSecrets)
    : undefined;
  const stripeSecret = config.stripeWebhookSecret;
  return [
    {
      source: 'billing',
      path: '/webhooks/billing',
      verify: billing,
      // Verified, so the header is there: it is the event id, the same on every retry.
      parse: (json, headers) => parseGenericEvent(json, standardHeaders(headers).id ?? ''),
    },
    {
      source: 'stripe',
      path: '/webhooks/stripe',
      verify: stripeSecret
        ? (raw, headers, now) =>
            verifyStripeSignature(raw, headers['stripe-signature'], stripeSecret, now)
        : undefined,
      parse: (json) => parseStripeEvent(json),
    },
    paddleSender(config),
    chargebeeSender(config),
    lagoSender(config, () => clock.now()),
    orbSender(config),
    polarSender(config),
  ];
}
