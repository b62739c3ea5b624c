/**
 * The spans customer-sync makes itself, through the OpenTelemetry API alone. Without a registered
 * SDK (tracing off) every call here is the API's no-op: no span is recorded, nothing is kept.
 *
 * Attributes carry only what is safe to export: methods, route templates, statuses, SQL text
 * (parameterised: values are never recorded), counts. Never headers, bodies, URLs with queries or
 * query parameters, where tokens and secrets live.
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

const tracer = () => trace.getTracer('customer-sync');

function failed(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR });
  // The type only: a message may quote an API answer or a value, and tokens live there.
  span.setAttribute('error.type', error instanceof Error ? error.name : typeof error);
}

/**
 * Runs `fn` in a new span, ended when it settles. `root`: a trace of its own, whatever is active
 * (a sweep is never part of the trace that happened to start it).
 */
export function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; root?: boolean },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.root ? ROOT_CONTEXT : context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    parent,
  );
  return inContext(parent, span, fn);
}

/** Runs `fn` with `span` active under `parent`; the span ends when `fn` settles. */
async function inContext<T>(
  parent: Context,
  span: Span,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * One Agent Engine HTTP attempt as a client span named by its route template (`PUT
 * /workspaces/{id}`), with the `traceparent` header added to `headers` so the far side can join.
 */
export function agentEngineCall<T extends { status: number }>(
  method: string,
  route: string,
  url: string,
  headers: Record<string, string>,
  send: () => Promise<T>,
): Promise<T> {
  const parent = context.active();
  const span = tracer().startSpan(route, { kind: SpanKind.CLIENT }, parent);
  // Tracing off, the span is the API's no-op: nothing to describe, to propagate or to make
  // active (a listing makes a call per page, and the context it would make is all cost).
  if (!span.isRecording()) return send();
  return inContext(parent, span, async () => {
    const { hostname, port } = new URL(url);
    span.setAttributes({
      'http.request.method': method,
      'url.template': route.slice(route.indexOf(' ') + 1),
      'server.address': hostname,
      ...(port ? { 'server.port': Number(port) } : {}),
    });
    propagation.inject(context.active(), headers);
    const answer = await send();
    span.setAttribute('http.response.status_code', answer.status);
    if (answer.status >= 400) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', String(answer.status));
    }
    return answer;
  });
}

/** `select`, `insert`, `with`, … : the statement's first word, for the span name. */
function operationOf(text: string): string {
  return /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase() ?? 'query';
}

type QueryFn = (...args: unknown[]) => unknown;

/**
 * Wraps a pg client's `query` so each query is a client span (`db.query.text` without values).
 * Handles the promise and callback forms (pg-pool's `pool.query` uses the callback form);
 * a submittable (a cursor, a stream) passes through untraced. Only inside a traced operation:
 * a lone query (a readiness probe, a timer's pass) would be a one-span trace every few seconds.
 */
export function traceQueries(query: QueryFn): QueryFn {
  return function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text =
      typeof first === 'string'
        ? first
        : typeof (first as { text?: unknown } | undefined)?.text === 'string'
          ? (first as { text: string }).text
          : undefined;
    if (
      text === undefined ||
      typeof (first as { submit?: unknown }).submit === 'function' ||
      !trace.getActiveSpan()
    ) {
      return query.apply(this, args);
    }
    const span = tracer().startSpan(`${operationOf(text)} postgresql`, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'postgresql', 'db.query.text': text },
    });
    const done = (error: unknown) => {
      if (error) failed(span, error);
      span.end();
    };
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (error: unknown, ...rest: unknown[]) => {
        done(error);
        return (callback as QueryFn)(error, ...rest);
      };
      return query.apply(this, args);
    }
    const result = query.apply(this, args) as Promise<unknown>;
    result.then(
      () => done(undefined),
      (error: unknown) => done(error ?? new Error('query failed')),
    );
    return result;
  };
}

/**
 * The active trace, serialized as BullMQ's telemetry metadata (bullmq-otel's format: the W3C
 * propagation headers as JSON), for a job queued later, outside this context; undefined while
 * tracing is off.
 */
export function activeTrace(): string | undefined {
  if (!trace.getActiveSpan()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? JSON.stringify(carrier) : undefined;
}

/**
 * Wraps a pg pool's `connect` so its callback runs in the caller's context: `pool.query` queries
 * from that callback, and a caller who waited for a free client would otherwise find its query
 * in the trace of whoever released it.
 */
export function inCallersContext(connect: QueryFn): QueryFn {
  return function (this: unknown, ...args: unknown[]) {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') args[last] = context.bind(context.active(), callback);
    return connect.apply(this, args);
  };
}

/**
 * Runs an incoming HTTP request's handling inside a server span (continuing the caller's trace
 * when it sent a `traceparent`); the span ends when the response is finished or abandoned.
 */
export function inServerSpan(
  method: string,
  headers: Record<string, string | string[] | undefined>,
  onDone: (listener: (status: number) => void) => void,
  handle: () => void,
): void {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer().startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } },
    parent,
  );
  onDone((status) => {
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), handle);
}

/** Names the active server span by the route that matched (`POST /webhooks/:vendor`). */
export function nameServerSpan(method: string, route: string | undefined): void {
  if (route === undefined) return;
  const span = trace.getActiveSpan();
  span?.updateName(`${method} ${route}`);
  span?.setAttribute('http.route', route);
}
