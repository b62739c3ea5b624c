/**
 * The vendors' official SDKs as judges of the signers in webhookSigners.ts: every signature the
 * tests send as valid is first accepted by the vendor's SDK where it has a verifier (svix, Paddle,
 * Chargebee, Orb, Polar), and every one sent as wrong is refused by it. Lago's client has no
 * verifier: its signer follows Lago's documentation. The SDKs check times against the real clock.
 */
import { Paddle } from '@paddle/paddle-node-sdk';
import { validateEvent, WebhookVerificationError } from '@polar-sh/sdk/webhooks';
import { basicAuthValidator } from 'chargebee';
import Orb from 'orb-billing';
import { Webhook } from 'svix';

import type { Headers } from './webhookSigners.js';

/** Whether `@paddle/paddle-node-sdk` accepts the signature. */
export const paddleAccepts = (body: string, secret: string, headers: Headers): Promise<boolean> =>
  new Paddle('pdl_sdbx_apikey_test').webhooks.isSignatureValid(
    body,
    secret,
    headers['paddle-signature'] ?? '',
  );

/** Whether the `chargebee` SDK's `basicAuthValidator` lets the request through. */
export async function chargebeeAccepts(
  headers: Headers,
  username: string,
  password: string,
): Promise<boolean> {
  const validate = basicAuthValidator((u: string, p: string) => u === username && p === password);
  try {
    await validate(headers);
    return true;
  } catch {
    return false;
  }
}

/** Whether `orb-billing`'s `webhooks.verifySignature` accepts the delivery. */
export function orbAccepts(body: string, secret: string, headers: Headers): boolean {
  try {
    new Orb({ apiKey: 'orb-test-key' }).webhooks.verifySignature(body, headers, secret);
    return true;
  } catch {
    return false;
  }
}

/** Whether the `svix` package's verifier accepts a Standard Webhooks delivery. */
export function svixAccepts(body: string, secret: string, headers: Headers): boolean {
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `@polar-sh/sdk`'s `validateEvent` accepts the signature. It also parses the event with
 * its full schema; a payload it cannot parse still counts as verified.
 */
export function polarAccepts(body: string, secret: string, headers: Headers): boolean {
  try {
    validateEvent(body, headers, secret);
    return true;
  } catch (error) {
    return !(error instanceof WebhookVerificationError);
  }
}

/** Whether `@polar-sh/sdk` both verifies and parses the event (a complete payload). */
export function polarParses(body: string, secret: string, headers: Headers): unknown {
  return validateEvent(body, headers, secret);
}
