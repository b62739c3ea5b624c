/**
 * A suite's webhook secrets: which variable gives each to the daemon, a fresh set for every route,
 * and each route's signer bound to them (the signers themselves are in webhookSigners.ts).
 */
import { randomBytes } from 'node:crypto';

import * as sign from './webhookSigners.js';
import type { Headers } from './webhookSigners.js';

/** The webhook routes' secrets; a route without one is not configured. */
export interface WebhookSecrets {
  /** Standard Webhooks secrets: the first signs, the rest are still accepted (a rotation). */
  billing?: string[];
  stripe?: string;
  paddle?: string;
  chargebee?: { user: string; pass: string };
  /** Lago's HMAC token (`hmac` endpoints). */
  lago?: string;
  /** Lago's RSA pair (`jwt` endpoints): the daemon is given the public key. */
  lagoKeys?: { privateKey: string; publicKeyBase64: string };
  orb?: string;
  polar?: string;
}

/** The variables that give the daemon `secrets`. */
export function secretsEnv(secrets: WebhookSecrets): Record<string, string> {
  const env: Record<string, string | undefined> = {
    BILLING_WEBHOOK_SECRET: secrets.billing?.join(' '),
    STRIPE_WEBHOOK_SECRET: secrets.stripe,
    PADDLE_WEBHOOK_SECRET: secrets.paddle,
    CHARGEBEE_WEBHOOK_USERNAME: secrets.chargebee?.user,
    CHARGEBEE_WEBHOOK_PASSWORD: secrets.chargebee?.pass,
    LAGO_WEBHOOK_SECRET: secrets.lago,
    LAGO_WEBHOOK_PUBLIC_KEY: secrets.lagoKeys?.publicKeyBase64,
    ORB_WEBHOOK_SECRET: secrets.orb,
    POLAR_WEBHOOK_SECRET: secrets.polar,
  };
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

const token = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

/** A fresh secret for every route. */
export function newWebhookSecrets(): Required<WebhookSecrets> {
  return {
    billing: [sign.newBillingSecret()],
    stripe: token('whsec_'),
    paddle: token('pdl_ntfset_'),
    chargebee: { user: token('cb-'), pass: token('cb-pass-') },
    lago: token('lago_'),
    lagoKeys: sign.lagoKeys(),
    orb: token('orb_'),
    polar: token('polar_whs_'),
  };
}

export type Signers = ReturnType<typeof signersFor>;

/** Each route's signer with `secrets` (times in seconds, Orb's in ms, as each scheme counts). */
export function signersFor(secrets: WebhookSecrets) {
  const need = <T>(value: T | undefined, route: string): T => {
    if (value === undefined) throw new Error(`this suite has no ${route} secret`);
    return value;
  };
  type Standard = { timestamp: number; id?: string; names?: 'webhook' | 'svix' };
  return {
    billing: (body: string | Buffer, options: Standard): Headers =>
      sign.signStandardWebhooks(need(secrets.billing?.[0], 'billing'), body, options),
    stripe: (body: string | Buffer, timestamp: number): Headers =>
      sign.signStripe(need(secrets.stripe, 'stripe'), body, timestamp),
    paddle: (body: string | Buffer, ts: number): Headers =>
      sign.signPaddle(need(secrets.paddle, 'paddle'), body, ts),
    chargebee: (): Headers => {
      const { user, pass } = need(secrets.chargebee, 'chargebee');
      return sign.chargebeeAuth(user, pass);
    },
    lagoHmac: (body: string | Buffer, key?: string): Headers =>
      sign.signLagoHmac(need(secrets.lago, 'lago'), body, key),
    lagoJwt: (body: string, options?: Parameters<typeof sign.signLagoJwt>[2]): Headers =>
      sign.signLagoJwt(need(secrets.lagoKeys, 'lago jwt').privateKey, body, options),
    orb: (body: string | Buffer, atMs: number): Headers =>
      sign.signOrb(need(secrets.orb, 'orb'), body, atMs),
    polar: (body: string | Buffer, options: Omit<Standard, 'names'>): Headers =>
      sign.signStandardWebhooks(
        sign.polarSigningSecret(need(secrets.polar, 'polar')),
        body,
        options,
      ),
  };
}
