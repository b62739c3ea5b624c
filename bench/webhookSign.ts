/**
 * Billing events signed the Standard Webhooks way (`v1,` + base64 HMAC-SHA256 of `id.ts.body`,
 * keyed with the base64 part of the `whsec_` secret), written from the spec, not from our code.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

let sequence = 0;

/** A fresh `customer.updated` rename: its own webhook-id, the current time, signed. */
export function signedRename(
  secret: string,
  customerId: string,
  name: string,
): { headers: Record<string, string>; body: string } {
  const id = `msg_bench_${process.pid}_${++sequence}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    type: 'customer.updated',
    timestamp: new Date().toISOString(),
    data: { id: customerId, name },
  });
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,${signature}`,
    },
  };
}
