/**
 * The webhook routes: `POST /webhooks/billing` (Standard Webhooks), `/stripe`, and one per billing
 * system (`/paddle`, `/chargebee`, `/lago`, `/orb`, `/polar`; see senders.ts).
 * Every delivery goes the same way: secret configured (else 503) → body within 256 KiB (413) →
 * signature on the raw bytes (401) → JSON (400) → shape (422) → event time at most 5 minutes
 * ahead of the signed time (400) → whose customer, where a buyer-writable field could say (422,
 * vendorIdentity.ts) → ingest, deduplicated by event id and by the body's digest (503 if
 * Postgres is unreachable) → 200
 * `{"status": …}`. Each refusal is a short `{"error": …}`, writes nothing, and is counted as
 * `rejected_<reason>`. Bodies and signature headers are never logged.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Config } from '../config.js';
import type { SyncQueue } from '../core/ports.js';
import type pg from 'pg';
import type { Clock } from '../lib/clock.js';
import { classify, toError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics, WebhookRejection, WebhookSource } from '../metrics.js';
import { type EventKey, markWebhookEventsQueued } from '../sql/webhookEvents.js';
import { batchedWebhookEnqueue } from './enqueueBatcher.js';
import { isOwnCustomers } from '../lib/sqlNames.js';
import { type Ingested, ingestWebhookEvent } from './ingest.js';
import { sendersOf } from './senders.js';
import type { Sender, VendorIdentity, WebhookEvent } from './types.js';
import { settleIdentity } from './vendorIdentity.js';
import { SIGNATURE_TOLERANCE_SECONDS } from './verifyStandard.js';
import { isReservedId, ORPHAN_PREFIX } from '../core/subject.js';

/** The largest body accepted; larger ones are answered 413 before they are read to the end. */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

/** What the webhook routes need (a subset of the server's deps, with the clock resolved). */
export interface WebhookDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly pool: pg.Pool;
  readonly syncQueue: SyncQueue;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

const EMPTY = Buffer.alloc(0);

/** A delivery refused before anything is written: the answer and the metric's reason. */
interface Refusal {
  readonly status: number;
  readonly reason: WebhookRejection;
  readonly message: string;
}

/** The checks before ingest, in the contract's order: secret, signature, JSON, shape. */
function readDelivery(
  sender: Sender,
  raw: Buffer,
  headers: IncomingHttpHeaders,
  nowMs: number,
): { event: WebhookEvent; identity?: VendorIdentity } | Refusal {
  if (!sender.verify) {
    const message = `${sender.source} webhook secret is not configured`;
    return { status: 503, reason: 'not_configured', message };
  }
  const verdict = sender.verify(raw, headers, nowMs);
  if (!verdict.ok) return { status: 401, reason: 'signature', message: verdict.reason };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { status: 400, reason: 'not_json', message: 'body is not JSON' };
  }
  const parsed = sender.parse(json, headers);
  if (!parsed.ok) return { status: 422, reason: 'invalid', message: parsed.error };
  // Postgres text cannot hold NUL: refused here for every sender, not failed as a 500 at insert
  // (a name a sender's mapping built from its free-text fields included).
  const { event } = parsed;
  const texts = {
    eventId: event.eventId,
    type: event.type,
    customerId: event.customerId,
    name: event.change?.name,
  };
  const withNul = (Object.keys(texts) as (keyof typeof texts)[]).find((k) =>
    texts[k]?.includes('\u0000'),
  );
  if (withNul) {
    return { status: 422, reason: 'invalid', message: `${withNul}: must not contain NUL` };
  }
  // A customer id that reads as an orphan's job key would be synced as that orphan.
  if (parsed.event.customerId !== null && isReservedId(parsed.event.customerId)) {
    return {
      status: 422,
      reason: 'invalid',
      message: `customer id must not start with "${ORPHAN_PREFIX}"`,
    };
  }
  // An event "from the future" would make every later event of its customer stale.
  const { signedAtMs } = verdict;
  if (
    signedAtMs !== undefined &&
    parsed.event.occurredAt.getTime() - signedAtMs > SIGNATURE_TOLERANCE_SECONDS * 1000
  ) {
    const message = 'event timestamp is more than 5 minutes ahead of the signature timestamp';
    return { status: 400, reason: 'future_timestamp', message };
  }
  return { event: parsed.event, ...(parsed.identity ? { identity: parsed.identity } : {}) };
}

/**
 * The key of the replay check: SHA-256 of the signed bytes, i.e. the raw body on every route.
 * Standard Webhooks, Stripe, Paddle and Orb sign a time (and an id) beside it, Lago only the body,
 * Chargebee nothing; whatever new id or time a second delivery of the same body comes with, it is
 * the same event (its body carries the event's own time), so it is a duplicate.
 */
const digestOf = (raw: Buffer): Buffer => createHash('sha256').update(raw).digest();

/** Why ingest failed, as an answer: the sender retries both, and nothing was acknowledged. */
function refusalFor(error: unknown): Refusal & { cause: string } {
  const failure = classify(error);
  return failure.kind === 'retryable'
    ? {
        status: 503,
        reason: 'unavailable',
        message: 'database unavailable; retry later',
        cause: failure.message,
      }
    : {
        status: 500,
        reason: 'error',
        message: 'internal error; retry later',
        cause: failure.message,
      };
}

/**
 * Registers both routes in their own scope: there every body is kept as the raw Buffer whatever
 * its content type (signatures are over the bytes, not over a re-serialised parse).
 */
export function webhookRoutes(deps: WebhookDeps): (app: FastifyInstance) => Promise<void> {
  const senders = sendersOf(deps.config, deps.clock);
  const log = deps.logger.child({ component: 'webhooks' });
  // Built once, not per request: the batcher must be shared by every delivery to batch them.
  const markQueued = (events: readonly EventKey[]) =>
    markWebhookEventsQueued(deps.pool, events, new Date(deps.clock.now())).catch((error: unknown) =>
      log.warn({ err: toError(error).message }, 'could not mark webhook syncs queued'),
    );
  const ingestDeps = {
    ...deps,
    logger: log,
    enqueue: batchedWebhookEnqueue(deps.syncQueue, markQueued),
    notifyOnly: !isOwnCustomers(deps.config.customersSource),
  };

  const refuse = (reply: FastifyReply, source: WebhookSource | undefined, refusal: Refusal) => {
    const outcome = `rejected_${refusal.reason}` as const;
    if (source) deps.metrics.recordWebhook(source, outcome);
    // A buyer naming someone else's customer is worth an operator's attention.
    log[refusal.reason === 'foreign_customer' ? 'warn' : 'info'](
      { source, status: refusal.status, outcome, reason: refusal.message },
      'webhook refused',
    );
    return reply.code(refusal.status).send({ error: refusal.message });
  };

  const handle = async (sender: Sender, request: FastifyRequest, reply: FastifyReply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : EMPTY;
    const read = readDelivery(sender, raw, request.headers, deps.clock.now());
    if (!('event' in read)) return refuse(reply, sender.source, read);
    let event: WebhookEvent = { ...read.event, bodyDigest: digestOf(raw) };
    let result: Ingested;
    try {
      const settled = await settleIdentity(
        deps.pool,
        event,
        read.identity,
        new Date(deps.clock.now()),
      );
      if ('error' in settled) {
        const refusal = {
          status: 422,
          reason: 'foreign_customer',
          message: settled.error,
        } as const;
        return refuse(reply, sender.source, refusal);
      }
      event = settled.event;
      result = await ingestWebhookEvent(ingestDeps, event);
    } catch (error) {
      const refusal = refusalFor(error);
      log.error(
        { source: sender.source, eventId: event.eventId, err: refusal.cause },
        'webhook not recorded',
      );
      return refuse(reply, sender.source, refusal);
    }
    deps.metrics.recordWebhook(sender.source, result.outcome);
    const { eventId, type, customerId } = event;
    const { outcome, reason, queued } = result;
    log.info(
      {
        source: sender.source,
        eventId,
        type,
        customerId,
        outcome,
        ...(reason ? { reason } : {}),
        queued,
      },
      'webhook',
    );
    return reply.code(200).send({ status: outcome });
  };

  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    // The body is read as bytes whatever it claims to be; a media type Fastify cannot parse
    // ("garbage", "a, b") would otherwise be refused 415 before the signature is even checked.
    app.addHook('onRequest', (request, _reply, done) => {
      request.headers['content-type'] = 'application/octet-stream';
      done();
    });
    // Errors raised before the handler runs: body too large, malformed framing or media type.
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const source = senders.find((s) => s.path === request.routeOptions.url)?.source;
      const status = error.statusCode ?? 500;
      if (status === 413) {
        return refuse(reply, source, { status, reason: 'too_large', message: 'body over 256 KiB' });
      }
      if (status >= 400 && status < 500) {
        const message = error.message.slice(0, 200);
        return refuse(reply, source, { status, reason: 'bad_request', message });
      }
      log.error({ source, err: error.message }, 'webhook route failed');
      return refuse(reply, source, {
        status: 500,
        reason: 'error',
        message: 'internal error; retry later',
      });
    });
    for (const sender of senders) {
      app.post(sender.path, { bodyLimit: MAX_WEBHOOK_BODY_BYTES }, (request, reply) =>
        handle(sender, request, reply),
      );
    }
  };
}
