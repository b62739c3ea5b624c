/**
 * OpenTelemetry traces through a running daemon, exported to memory: a billing webhook's request,
 * the sync it queued and that sync's Agent Engine calls form one trace; a sweep is a trace of its
 * own; no span carries a secret; and with no OTLP endpoint nothing is traced at all.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { propagation, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { signStandardWebhooks } from '../support/webhookSigners.js';
import { CLIENT_SECRET, type Harness, startHarness } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
// Nothing listens there: an in-memory exporter replaces OTLP, the variable only turns tracing on.
const OTEL = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' };
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function send(url: string, type: string, data: Record<string, string>) {
  const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
  const headers = signStandardWebhooks(SECRET, body, { timestamp: Math.floor(Date.now() / 1000) });
  const answer = await request(`${url}/webhooks/billing`, { method: 'POST', headers, body });
  await answer.body.dump();
  return answer.statusCode;
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** Whether `ancestor` is `span`'s parent, grandparent, … among `spans`. */
function descends(span: ReadableSpan, ancestor: ReadableSpan, spans: ReadableSpan[]): boolean {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  for (let at = byId.get(parentOf(span) ?? ''); at; at = byId.get(parentOf(at) ?? '')) {
    if (at === ancestor) return true;
  }
  return false;
}

/** Every string a span would export: name, attributes, events, links, status, resource. */
function exported(span: ReadableSpan): string {
  return JSON.stringify([
    span.name,
    span.attributes,
    span.events.map((e) => [e.name, e.attributes]),
    span.links.map((l) => l.attributes),
    span.status,
    span.resource.attributes,
  ]);
}

describe('tracing', () => {
  it('one billing webhook is one trace: its request, the sync it queued, the PUT; a sweep is its own trace; no secrets', async () => {
    h = await startHarness({ env: { BILLING_WEBHOOK_SECRET: SECRET, ...OTEL } });
    // Written before the daemon listens for changes: the sweep is what finds it.
    await h.customers([{ id: 'cus_t', name: 'Traced Co' }]);
    const exporter = new InMemorySpanExporter();
    const daemon = await h.startDaemon({ traceExporter: exporter });
    const everything: ReadableSpan[] = [];
    const sim = h.sim;

    // A sweep makes the workspace: a root span with its page count and changes.
    await sweepAndWait(daemon.app);
    const sweep = await waitFor(() => exporter.getFinishedSpans().find((s) => s.name === 'sweep'), {
      timeoutMs: 15_000,
      what: 'the sweep span',
    });
    expect(parentOf(sweep)).toBeUndefined();
    expect(sweep.attributes).toMatchObject({
      'sweep.pages': 1,
      'sweep.changes': 1,
      'sweep.count.create': 1,
      'sweep.held': false,
    });
    // The sync it queued joins the sweep's trace, down to the workspace's creation (get-or-create).
    const post = await waitFor(
      () =>
        exporter
          .getFinishedSpans()
          .find((s) => s.name === 'POST /account/applications/scoped-token'),
      { timeoutMs: 15_000, what: 'the workspace-creating span' },
    );
    expect(post.spanContext().traceId).toBe(sweep.spanContext().traceId);
    everything.push(...exporter.getFinishedSpans());
    exporter.reset();

    // A rename by webhook: the request, its job and the PUT, in one trace.
    const ws = sim.store.findByName('Traced Co');
    expect(await send(daemon.url, 'customer.updated', { id: 'cus_t', name: 'Traced Corp' })).toBe(
      200,
    );
    await waitFor(() => sim.store.get(ws!.id)?.name === 'Traced Corp', { what: 'the rename' });
    const server = await waitFor(
      () => exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER),
      { timeoutMs: 15_000, what: 'the server span' },
    );
    const traceId = server.spanContext().traceId;
    const inTrace = () =>
      exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const job = await waitFor(() => inTrace().find((s) => s.kind === SpanKind.CONSUMER), {
      timeoutMs: 15_000,
      what: 'the job span in the webhook trace',
    });
    const spans = inTrace();
    const put = spans.find((s) => s.attributes['http.request.method'] === 'PUT');
    expect(server.name).toBe('POST /webhooks/billing');
    expect(server.attributes).toMatchObject({
      'http.route': '/webhooks/billing',
      'http.response.status_code': 200,
    });
    expect(parentOf(server)).toBeUndefined();
    expect(job.name).toBe('process sync');
    expect(descends(job, server, spans)).toBe(true);
    expect(put).toBeDefined();
    expect(put!.name).toBe('PUT /workspaces/{id}');
    expect(put!.attributes['http.response.status_code']).toBe(200);
    expect(descends(put!, job, spans)).toBe(true);
    // Postgres queries, both the request's (recording the event) and the job's.
    const queries = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    expect(queries.some((q) => descends(q, job, spans))).toBe(true);
    expect(queries.some((q) => !descends(q, job, spans))).toBe(true);
    // One request, one trace: nothing else of the webhook started a trace of its own.
    expect(spans.filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(1);
    expect(parentOf(sweep)).toBeUndefined();
    expect(sweep.spanContext().traceId).not.toBe(traceId);

    everything.push(...exporter.getFinishedSpans());
    expect(everything.length).toBeGreaterThan(10);
    for (const span of everything) {
      const text = exported(span);
      expect(text, span.name).not.toContain(CLIENT_SECRET);
      expect(text, span.name).not.toContain(SECRET);
      expect(text, span.name).not.toMatch(JWT);
    }

    // Closing the daemon stops the SDK: the global API is a no-op again.
    await daemon.close();
    expect(trace.getTracer('t').startSpan('after').isRecording()).toBe(false);
  });

  it('with no OTLP endpoint set, nothing is initialised and nothing is exported', async () => {
    h = await startHarness({ env: { BILLING_WEBHOOK_SECRET: SECRET } });
    const exporter = new InMemorySpanExporter();
    const daemon = await h.startDaemon({ traceExporter: exporter });
    expect(await send(daemon.url, 'customer.created', { id: 'cus_u', name: 'Untraced' })).toBe(200);
    await waitFor(() => h!.sim.store.findByName('Untraced'), { what: 'the workspace' });

    expect(daemon.app.tracing).toBeUndefined();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    // No provider, no propagator registered: the API is its no-op.
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
    expect(propagation.fields()).toEqual([]);
    // BullMQ was given no telemetry: the job carries no trace context.
    const done = await waitFor(
      async () => (await daemon.app.queues.sync.getJobs(['completed']))[0],
      { what: 'the completed job' },
    );
    expect(done.opts.telemetry).toBeUndefined();
    expect(daemon.app.queues.sync.opts.telemetry).toBeUndefined();
  });

  it('sends spans over OTLP/HTTP to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces, flushed at close', async () => {
    const received: { path: string; body: string }[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    try {
      const { port } = collector.address() as AddressInfo;
      const endpoint = `http://127.0.0.1:${port}`;
      h = await startHarness({
        env: { BILLING_WEBHOOK_SECRET: SECRET, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
      });
      const daemon = await h.startDaemon();
      expect(await send(daemon.url, 'customer.created', { id: 'cus_o', name: 'Otlp' })).toBe(200);
      await waitFor(() => h!.sim.store.findByName('Otlp'), { what: 'the workspace' });
      await daemon.close();
      const names = received.flatMap(({ body }) =>
        [...body.matchAll(/"name":"([^"]+)"/g)].map((m) => m[1]),
      );
      expect(received.every((r) => r.path === '/v1/traces')).toBe(true);
      expect(names).toEqual(expect.arrayContaining(['POST /webhooks/billing', 'process sync']));
    } finally {
      await new Promise((r) => collector.close(r));
    }
  });
});
