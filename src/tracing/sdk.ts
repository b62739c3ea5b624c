/**
 * The OpenTelemetry SDK, loaded (by a dynamic import from the daemon) only when tracing is on:
 * a tracer provider registered globally (AsyncLocalStorage context, W3C `traceparent`), an OTLP
 * exporter, and BullMQ's telemetry adapter that carries a trace from a queued job to its worker.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { BullMQOtel } from 'bullmq-otel';
import type { Telemetry } from 'bullmq';

/** Tracing while it is on: what the queues and workers take, and how to stop it. */
export interface Tracing {
  /** For BullMQ's `telemetry` option (Queue and Worker). */
  readonly telemetry: Telemetry;
  /** Exports what is left and unregisters the global provider; safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK. `exporter` replaces OTLP (tests pass an in-memory one; spans are then handed
 * over one by one, not batched). The resource takes `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES`; the sampler `OTEL_TRACES_SAMPLER`, as the SDK reads them.
 */
export function startTracing(tracesUrl: string, exporter?: SpanExporter): Tracing {
  const resource = resourceFromAttributes({ 'service.name': 'customer-sync' }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [
      exporter
        ? new SimpleSpanProcessor(exporter)
        : new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl })),
    ],
  });
  provider.register();
  let stopped: Promise<void> | undefined;
  return {
    telemetry: new BullMQOtel({ tracerName: 'customer-sync' }),
    shutdown: () =>
      (stopped ??= provider.shutdown().finally(() => {
        trace.disable();
        context.disable();
        propagation.disable();
      })),
  };
}
