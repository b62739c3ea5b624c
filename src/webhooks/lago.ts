/**
 * Lago webhooks (`POST /webhooks/lago`).
 *
 * Scheme (Lago's "Format & Signature" page; the header docs in `lago-javascript-client`'s
 * OpenAPI): `X-Lago-Signature-Algorithm` says which of two an endpoint uses.
 * - `hmac`: `X-Lago-Signature` is the base64 HMAC-SHA256 of the raw body, keyed with the
 *   organization's HMAC token (`LAGO_WEBHOOK_SECRET`).
 * - `jwt` (Lago's original, the default): an RS256 JWT `{data: <the body as sent>, iss}` signed
 *   with Lago's private key, checked with its public key (`LAGO_WEBHOOK_PUBLIC_KEY`); `data` must
 *   equal the raw body byte for byte. An `exp`, if Lago ever sends one, is honoured.
 * Neither carries a timestamp, so there is no tolerance to hold: a replay is caught by its unique
 * key, and an old event by the object's own timestamps.
 *
 * Envelope: `{webhook_type, object_type, <object_type>: {...}}`; the event id is the
 * `X-Lago-Unique-Key` header. Our id: Lago's external customer id (`customer.external_id`,
 * `subscription.external_customer_id`): Lago always carries the id in your system.
 */
import { createHmac, createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { z } from 'zod';

import type { Config } from '../config.js';
import {
  changeOf,
  customerIdSchema,
  describeIssue,
  type EventHandler,
  handler,
  nameSchema,
} from './eventSchemas.js';
import type { Sender, Verdict } from './types.js';
import { single } from './verifyStandard.js';
import { anyMatches, eventFrom, eventIdSchema } from './vendorEvents.js';

const b64url = (s: string) => Buffer.from(s, 'base64url');

/** An RS256 JWT whose `data` claim is the raw body, checked with Lago's public key. */
function verifyJwt(token: string, raw: Buffer, key: KeyObject, nowMs: number): Verdict {
  const [head, body, sig, extra] = token.split('.');
  if (!head || !body || !sig || extra !== undefined) return { ok: false, reason: 'malformed JWT' };
  let header: { alg?: unknown };
  let claims: { data?: unknown; exp?: unknown };
  try {
    header = JSON.parse(b64url(head).toString('utf8'));
    claims = JSON.parse(b64url(body).toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed JWT' };
  }
  // The algorithm is pinned: a token naming another (`none`, HS256) is never tried.
  if (header.alg !== 'RS256') return { ok: false, reason: 'JWT algorithm is not RS256' };
  if (!verify('RSA-SHA256', Buffer.from(`${head}.${body}`), key, b64url(sig))) {
    return { ok: false, reason: 'no matching signature' };
  }
  if (typeof claims.exp === 'number' && nowMs / 1000 > claims.exp) {
    return { ok: false, reason: 'JWT expired' };
  }
  if (typeof claims.data !== 'string' || !Buffer.from(claims.data, 'utf8').equals(raw)) {
    return { ok: false, reason: 'signed data is not the body' };
  }
  return { ok: true };
}

/** Builds the check for the configured mode(s); undefined when neither is configured. */
export function createLagoVerifier(secret: string | undefined, publicKeyPem: string | undefined) {
  if (!secret && !publicKeyPem) return undefined;
  const key = publicKeyPem ? createPublicKey(publicKeyPem) : undefined;
  return (raw: Buffer, headers: IncomingHttpHeaders, nowMs: number): Verdict => {
    const signature = single(headers['x-lago-signature']);
    if (!signature) return { ok: false, reason: 'missing X-Lago-Signature' };
    const algorithm = single(headers['x-lago-signature-algorithm']) ?? 'jwt';
    if (algorithm === 'hmac') {
      if (!secret) return { ok: false, reason: 'hmac signatures are not configured' };
      const expected = createHmac('sha256', secret).update(raw).digest();
      const offered = /^[A-Za-z0-9+/]+={0,2}$/.test(signature)
        ? [Buffer.from(signature, 'base64')]
        : [];
      return anyMatches(expected, offered)
        ? { ok: true }
        : { ok: false, reason: 'no matching signature' };
    }
    if (algorithm === 'jwt') {
      if (!key) return { ok: false, reason: 'jwt signatures are not configured' };
      return verifyJwt(signature, raw, key, nowMs);
    }
    return { ok: false, reason: 'unknown X-Lago-Signature-Algorithm' };
  };
}

const when = z.iso.datetime({ offset: true }).nullish();
const customer = z.object({
  external_id: customerIdSchema,
  name: nameSchema.nullish(),
  created_at: when,
  updated_at: when,
});
const subscription = z.object({
  external_customer_id: customerIdSchema,
  created_at: when,
  started_at: when,
  terminated_at: when,
});

/** Event type → handler (each receives the whole body). */
export const LAGO_HANDLERS: ReadonlyMap<string, EventHandler> = new Map([
  ...['customer.created', 'customer.updated'].map((type): [string, EventHandler] => [
    type,
    handler(
      z.object({ customer }),
      ({ customer: c }) => ({ customerId: c.external_id, change: changeOf(c.name) }),
      '',
    ),
  ]),
  ...(
    [
      ['subscription.started', 'active'],
      ['subscription.terminated', 'inactive'],
    ] as const
  ).map(([type, status]): [string, EventHandler] => [
    type,
    handler(
      z.object({ subscription }),
      ({ subscription: s }) => ({ customerId: s.external_customer_id, change: { status } }),
      '',
    ),
  ]),
]);

const envelope = z.looseObject({ webhook_type: z.string().min(1).max(255) });

/** The envelope has no time: the object's own, latest first, else the time of receipt. */
function occurredAt(body: Record<string, unknown>, receivedMs: number): Date {
  const object = (body.customer ?? body.subscription) as Record<string, unknown> | undefined;
  for (const field of ['terminated_at', 'started_at', 'updated_at', 'created_at']) {
    const value = when.safeParse(object?.[field]);
    if (value.success && value.data) return new Date(value.data);
  }
  return new Date(receivedMs);
}

/** The `/webhooks/lago` sender; `now` gives the time for an event whose object carries none. */
export function lagoSender(config: Config, now: () => number): Sender {
  return {
    source: 'lago',
    path: '/webhooks/lago',
    verify: createLagoVerifier(config.lagoWebhookSecret, config.lagoWebhookPublicKey),
    parse: (json, headers) => {
      const env = envelope.safeParse(json);
      if (!env.success) return { ok: false, error: describeIssue(env.error) };
      const id = eventIdSchema.safeParse(single(headers['x-lago-unique-key']));
      if (!id.success) return { ok: false, error: 'X-Lago-Unique-Key: required, at most 255' };
      const type = env.data.webhook_type;
      const occurred = occurredAt(env.data, now());
      const base = { source: 'lago' as const, eventId: id.data, type, occurredAt: occurred };
      return eventFrom(base, LAGO_HANDLERS.get(type), env.data);
    },
  };
}
