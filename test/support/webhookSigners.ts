/**
 * One signer per webhook scheme, written from each sender's documentation (independent of the
 * code under test): Standard Webhooks (the billing route, Svix-powered senders, Polar), Stripe,
 * Paddle, Chargebee's basic auth, Lago (HMAC and JWT) and Orb. The vendors' own SDKs judge these
 * signatures in vendorSdks.ts.
 */
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

export type Headers = Record<string, string>;
const json = { 'content-type': 'application/json' };

/** A fresh Standard Webhooks secret. */
export const newBillingSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the base64
 * part of the `whsec_` secret. `timestamp` in seconds. `names: 'svix'` gives the headers
 * Svix-powered senders use (`svix-id`…) instead of `webhook-id`….
 */
export function signStandardWebhooks(
  secret: string,
  body: string | Buffer,
  options: { timestamp: number; id?: string; names?: 'webhook' | 'svix' },
): Headers {
  const id = options.id ?? `msg_${randomBytes(8).toString('hex')}`;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key)
    .update(`${id}.${options.timestamp}.`)
    .update(body)
    .digest('base64');
  const p = options.names ?? 'webhook';
  return {
    [`${p}-id`]: id,
    [`${p}-timestamp`]: String(options.timestamp),
    [`${p}-signature`]: `v1,${signature}`,
    ...json,
  };
}

/** Polar's secret as Standard Webhooks takes it: Polar's SDK base64-encodes the raw secret. */
export const polarSigningSecret = (secret: string): string =>
  `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;

/** Stripe: `t=<ts>,v1=<hex HMAC-SHA256 of "t.body" keyed with the secret as is>`. */
export function signStripe(secret: string, body: string | Buffer, timestamp: number): Headers {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return { 'stripe-signature': `t=${timestamp},v1=${v1}`, ...json };
}

/** Paddle: `Paddle-Signature: ts=<s>;h1=<hex HMAC-SHA256 of "ts:body">`. */
export function signPaddle(secret: string, body: string | Buffer, ts: number): Headers {
  const h1 = createHmac('sha256', secret).update(`${ts}:`).update(body).digest('hex');
  return { ...json, 'paddle-signature': `ts=${ts};h1=${h1}` };
}

/** Chargebee: HTTP basic auth with the webhook's username and password. */
export const chargebeeAuth = (username: string, password: string): Headers => ({
  ...json,
  authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
});

const uniqueKey = () => `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}`;

/** Lago `hmac` endpoints: base64 HMAC-SHA256 of the body, keyed with the HMAC token. */
export function signLagoHmac(secret: string, body: string | Buffer, key = uniqueKey()): Headers {
  return {
    ...json,
    'x-lago-signature': createHmac('sha256', secret).update(body).digest('base64'),
    'x-lago-signature-algorithm': 'hmac',
    'x-lago-unique-key': key,
  };
}

/** A Lago-like RSA key pair; the public key as Lago's API returns it (base64 of the PEM). */
export function lagoKeys(): { privateKey: string; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: Buffer.from(pem).toString('base64'),
  };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Lago `jwt` endpoints: an RS256 JWT of `{data: body, iss}` (Lago's `generate_signature`). */
export function signLagoJwt(
  privateKey: string,
  body: string,
  options: { key?: string; alg?: string; data?: string } = {},
): Headers {
  const head = b64url({ alg: options.alg ?? 'RS256', typ: 'JWT' });
  const claims = b64url({ data: options.data ?? body, iss: 'https://api.getlago.com' });
  const signature = sign('RSA-SHA256', Buffer.from(`${head}.${claims}`), privateKey);
  return {
    ...json,
    'x-lago-signature': `${head}.${claims}.${signature.toString('base64url')}`,
    'x-lago-signature-algorithm': 'jwt',
    'x-lago-unique-key': options.key ?? uniqueKey(),
  };
}

/** Orb: `X-Orb-Signature: v1=<hex HMAC-SHA256 of "v1:timestamp:body">`, ISO timestamp. */
export function signOrb(secret: string, body: string | Buffer, atMs: number): Headers {
  // Orb sends the timestamp without a zone (UTC), as `orb-billing`'s verifier expects.
  const timestamp = new Date(atMs).toISOString().replace('Z', '');
  const v1 = createHmac('sha256', secret).update(`v1:${timestamp}:`).update(body).digest('hex');
  return { ...json, 'x-orb-timestamp': timestamp, 'x-orb-signature': `v1=${v1}` };
}
