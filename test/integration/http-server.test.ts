/**
 * The HTTP server's own routes and failure modes: liveness, readiness, metrics, routes without a
 * secret, Postgres unreachable, and an idempotent close.
 */
import { describe, expect, it } from 'vitest';

import { createPool } from '../../src/db/pool.js';
import { fixture } from '../support/webhookFixtures.js';
import { newBillingSecret, signStandardWebhooks, signStripe } from '../support/webhookSigners.js';
import { databaseSuite } from '../support/webhookSuite.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const T = NOW / 1000;
const { database, startServer } = databaseSuite({ now: NOW });

const sample = (text: string, line: string) =>
  text.split('\n').find((l) => l.startsWith(`${line} `));

describe('health, readiness and metrics', () => {
  it('GET /healthz answers 200 while alive', async () => {
    await using server = await startServer();
    expect(await server.get('/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
  });

  it('GET /readyz is 200 only when every part is ready, else 503 with the same body', async () => {
    let report = { postgres: true, redis: true, workers: true };
    await using server = await startServer({
      readiness: { check: async () => report },
    });
    expect(await server.get('/readyz')).toMatchObject({ status: 200, json: report });
    for (const part of ['postgres', 'redis', 'workers'] as const) {
      report = { postgres: true, redis: true, workers: true, [part]: false };
      expect(await server.get('/readyz'), part).toMatchObject({ status: 503, json: report });
    }
  });

  it('GET /readyz is 503 when the check itself throws', async () => {
    await using server = await startServer({
      readiness: {
        check: async () => {
          throw new Error('boom');
        },
      },
    });
    expect(await server.get('/readyz')).toMatchObject({
      status: 503,
      json: { postgres: false, redis: false, workers: false },
    });
  });

  it('GET /metrics exposes the webhook counters after traffic', async () => {
    const secret = newBillingSecret();
    await using server = await startServer({
      secrets: { billing: [secret] },
    });
    const body = JSON.stringify(fixture('billing/customer.created'));
    await server.post(
      '/webhooks/billing',
      body,
      signStandardWebhooks(secret, body, { id: 'msg_m1', timestamp: T }),
    );
    await server.post(
      '/webhooks/billing',
      body,
      signStandardWebhooks(secret, body, { id: 'msg_m1', timestamp: T }),
    );
    await server.post('/webhooks/billing', body, { 'content-type': 'application/json' });
    await server.post(
      '/webhooks/billing',
      'x',
      signStandardWebhooks(secret, 'x', { timestamp: T }),
    );
    await server.post('/webhooks/stripe', body, { 'content-type': 'application/json' });
    const metrics = await server.get('/metrics');
    expect(metrics.status).toBe(200);
    const text = metrics.text;
    for (const [outcome, source, n] of [
      ['applied', 'billing', 1],
      ['duplicate', 'billing', 1],
      ['rejected_signature', 'billing', 1],
      ['rejected_not_json', 'billing', 1],
      ['rejected_not_configured', 'stripe', 1],
    ] as const) {
      expect(
        sample(text, `customer_sync_webhooks_total{source="${source}",outcome="${outcome}"}`),
        outcome,
      ).toBe(`customer_sync_webhooks_total{source="${source}",outcome="${outcome}"} ${n}`);
    }
    expect(text).toContain('# TYPE customer_sync_agent_engine_calls_total counter');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('logs one debug line per request, by route template', async () => {
    await using server = await startServer();
    await server.get('/healthz?token=secret-looking');
    const lines = server.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(lines).toEqual([
      expect.objectContaining({ level: 20, method: 'GET', route: '/healthz', status: 200 }),
    ]);
    expect(server.logs.join('')).not.toContain('secret-looking');
  });
});

describe('webhooks that cannot be taken', () => {
  it('answers 503 on a route with no secret configured, and writes nothing', async () => {
    await using server = await startServer();
    const body = JSON.stringify(fixture('billing/customer.created'));
    const billing = await server.post(
      '/webhooks/billing',
      body,
      signStandardWebhooks(newBillingSecret(), body, { timestamp: T }),
    );
    expect(billing).toMatchObject({
      status: 503,
      json: { error: 'billing webhook secret is not configured' },
    });
    const stripe = await server.post('/webhooks/stripe', body, signStripe('whsec_x', body, T));
    expect(stripe).toMatchObject({
      status: 503,
      json: { error: 'stripe webhook secret is not configured' },
    });
    const { rows } = await database.pool.query('select count(*)::int as n from webhook_events');
    expect(rows[0].n).toBe(0);
  });

  it('answers 503 when Postgres is unreachable, acknowledging nothing', async () => {
    const refused = 'postgres://postgres@127.0.0.1:1/nowhere';
    const pool = createPool(refused, { max: 2 });
    const secret = newBillingSecret();
    try {
      await using server = await startServer({
        pool,
        databaseUrl: refused,
        secrets: { billing: [secret] },
      });
      const body = JSON.stringify(fixture('billing/customer.created'));
      const answer = await server.post(
        '/webhooks/billing',
        body,
        signStandardWebhooks(secret, body, { timestamp: T }),
      );
      expect(answer).toMatchObject({ status: 503, json: { error: expect.any(String) } });
      expect(server.queue.calls).toEqual([]);
      const metrics = await server.get('/metrics');
      expect(metrics.text).toContain(
        'customer_sync_webhooks_total{source="billing",outcome="rejected_unavailable"} 1',
      );
    } finally {
      await pool.end();
    }
  });
});

describe('lifecycle', () => {
  it('close() can be called twice, and the port stops answering', async () => {
    const server = await startServer();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await Promise.all([server.server.close(), server.server.close()]);
    await server.server.close();
    await expect(server.get('/healthz')).rejects.toThrow();
  });
});
