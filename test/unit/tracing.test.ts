/** Tracing's pieces: the configuration that turns it on, and traces kept apart in a batch. */
import { context, propagation, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { afterAll, describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config.js';
import type { SyncQueue } from '../../src/core/ports.js';
import { batchedWebhookEnqueue } from '../../src/webhooks/enqueueBatcher.js';

describe('tracing configuration', () => {
  it('is off unless an OTLP endpoint is set', () => {
    expect(loadConfig({}).otlpTracesUrl).toBeUndefined();
    expect(loadConfig({ OTEL_SERVICE_NAME: 'x' }).otlpTracesUrl).toBeUndefined();
  });

  it('derives the traces URL as the OpenTelemetry spec does', () => {
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).otlpTracesUrl,
    ).toBe('http://collector:4318/v1/traces');
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/custom',
      }).otlpTracesUrl,
    ).toBe('https://traces.example/custom');
  });

  it('stays off with OTEL_SDK_DISABLED=true, and a bad endpoint stops the start', () => {
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })
        .otlpTracesUrl,
    ).toBeUndefined();
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      new ConfigError(
        'OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is invalid: expected an http(s) URL like http://collector:4318',
      ),
    );
  });
});

describe('batched webhook enqueues, traced', () => {
  const provider = new NodeTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
  });
  provider.register();
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it("each customer's job continues its own delivery's trace, not the batch's first", async () => {
    const calls: { ids: readonly string[]; traces: readonly (string | undefined)[] }[] = [];
    let release: () => void = () => {};
    const queue: SyncQueue = {
      enqueue: (ids, _trigger, options = {}) => {
        calls.push({ ids, traces: options.traces ?? [] });
        return new Promise<void>((r) => (release = r));
      },
    };
    const enqueue = batchedWebhookEnqueue(queue);
    const tracer = trace.getTracer('test');
    const delivery = (name: string, customerId: string) =>
      tracer.startActiveSpan(name, async (span) => {
        const done = enqueue(customerId);
        span.end();
        return { done, traceId: span.spanContext().traceId };
      });
    const a = await delivery('a', 'cus_a');
    // Arrives while the first enqueue is in flight: batched with whatever comes next.
    const b = await delivery('b', 'cus_b');
    const c = await delivery('c', 'cus_c');
    release();
    await a.done;
    await waitUntil(() => calls.length === 2);
    release();
    await Promise.all([b.done, c.done]);

    expect(calls.map((call) => call.ids)).toEqual([['cus_a'], ['cus_b', 'cus_c']]);
    const traceIds = calls.map((call) =>
      call.traces.map(
        (t) => (JSON.parse(t ?? '{}') as { traceparent?: string }).traceparent?.split('-')[1],
      ),
    );
    expect(traceIds).toEqual([[a.traceId], [b.traceId, c.traceId]]);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await Promise.resolve();
  if (!condition()) throw new Error('condition never held');
}
