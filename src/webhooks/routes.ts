/**
 * The webhook routes: `POST /webhooks/billing` (Standard Webhooks) and `POST /webhooks/stripe`.
 * Every delivery goes the same way: secret configured (else 503) → body within 256 KiB (413) →
 * signature on the raw bytes (401) → JSON (400) → shape (422) → ingest (503 if Postgres is
 * unreachable) → 200 `{"status": …}`. Each refusal is a short `{"error": …}`, writes nothing, and
 * is counted as `rejected_<reason>`. Bodies and signature headers are never logged.
 */
import type { IncomingHttpHeaders } from 'node:http';

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Config } from '../config.js';
import type { SyncQueue } from '../core/ports.js';
import type { Db } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { classify } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics, WebhookRejection, WebhookSource } from '../metrics.js';
import { parseBillingEvent } from './billing.js';
import { type Ingested, ingestWebhookEvent } from './ingest.js';
import { parseStripeEvent } from './stripe.js';
import type { ParsedEvent, Verdict } from './types.js';
import { createStandardVerifier, single } from './verifyStandard.js';
import { verifyStripeSignature } from './verifyStripe.js';

/** The largest body accepted; larger ones are answered 413 before they are read to the end. */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

export interface WebhookDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Db;
  readonly syncQueue: SyncQueue;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/** What differs between senders: how a delivery is verified and how its body is read. */
interface Sender {
  readonly source: WebhookSource;
  readonly path: string;
  /** Undefined when no secret is configured: the route answers 503. */
  readonly verify:
    ((raw: Buffer, headers: IncomingHttpHeaders, nowMs: number) => Verdict) | undefined;
  readonly parse: (json: unknown, headers: IncomingHttpHeaders) => ParsedEvent;
}

function sendersOf(config: Config): Sender[] {
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
      parse: (json, headers) => parseBillingEvent(json, single(headers['webhook-id']) ?? ''),
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
  ];
}

const EMPTY = Buffer.alloc(0);

/**
 * Registers both routes in their own scope: there every body is kept as the raw Buffer whatever
 * its content type (signatures are over the bytes, not over a re-serialised parse).
 */
export function webhookRoutes(deps: WebhookDeps): (app: FastifyInstance) => Promise<void> {
  const senders = sendersOf(deps.config);
  const log = deps.logger.child({ component: 'webhooks' });
  const sourceOf = (request: FastifyRequest) =>
    senders.find((s) => s.path === request.routeOptions.url)?.source;

  const refuse = (
    reply: FastifyReply,
    source: WebhookSource | undefined,
    status: number,
    reason: WebhookRejection,
    message: string,
  ) => {
    if (source) deps.metrics.recordWebhook(source, `rejected_${reason}`);
    log.info({ source, status, outcome: `rejected_${reason}`, reason: message }, 'webhook refused');
    return reply.code(status).send({ error: message });
  };

  const handle = async (sender: Sender, request: FastifyRequest, reply: FastifyReply) => {
    const { source } = sender;
    if (!sender.verify) {
      return refuse(
        reply,
        source,
        503,
        'not_configured',
        `${source} webhook secret is not configured`,
      );
    }
    const raw = Buffer.isBuffer(request.body) ? request.body : EMPTY;
    const verdict = sender.verify(raw, request.headers, deps.clock.now());
    if (!verdict.ok) return refuse(reply, source, 401, 'signature', verdict.reason);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(reply, source, 400, 'not_json', 'body is not JSON');
    }
    const parsed = sender.parse(json, request.headers);
    if (!parsed.ok) return refuse(reply, source, 422, 'invalid', parsed.error);
    const { event } = parsed;
    let result: Ingested;
    try {
      result = await ingestWebhookEvent({ ...deps, logger: log }, event);
    } catch (error) {
      const failure = classify(error);
      const unavailable = failure.kind === 'retryable';
      log.error({ source, eventId: event.eventId, err: failure.message }, 'webhook not recorded');
      return unavailable
        ? refuse(reply, source, 503, 'unavailable', 'database unavailable; retry later')
        : refuse(reply, source, 500, 'error', 'internal error; retry later');
    }
    deps.metrics.recordWebhook(source, result.outcome);
    log.info(
      {
        source,
        eventId: event.eventId,
        type: event.type,
        customerId: event.customerId,
        outcome: result.outcome,
        ...(result.reason ? { reason: result.reason } : {}),
        queued: result.queued,
      },
      'webhook',
    );
    return reply.code(200).send({ status: result.outcome });
  };

  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    // Errors raised before the handler runs: body too large, malformed framing.
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const source = sourceOf(request);
      const status = error.statusCode ?? 500;
      if (status === 413) return refuse(reply, source, 413, 'too_large', 'body over 256 KiB');
      if (status >= 400 && status < 500) {
        return refuse(reply, source, status, 'bad_request', error.message.slice(0, 200));
      }
      log.error({ source, err: error.message }, 'webhook route failed');
      return refuse(reply, source, 500, 'error', 'internal error; retry later');
    });
    for (const sender of senders) {
      app.post(sender.path, { bodyLimit: MAX_WEBHOOK_BODY_BYTES }, (request, reply) =>
        handle(sender, request, reply),
      );
    }
  };
}
