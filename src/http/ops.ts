/** The operator routes: liveness, readiness and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';

import type { Metrics } from '../metrics.js';

/** Which dependencies answer; the daemon's composition root supplies the checks. */
export interface ReadinessReport {
  readonly postgres: boolean;
  readonly redis: boolean;
  readonly workers: boolean;
}

/** Checks each dependency; `/readyz` calls it on every request. */
export interface Readiness {
  check(): Promise<ReadinessReport>;
}

const NOTHING_READY: ReadinessReport = { postgres: false, redis: false, workers: false };

/**
 * `GET /healthz`: 200 while the process is alive (it checks nothing else, so a down database
 * never gets a healthy process restarted). `GET /readyz`: 200 with the report only when every
 * part is true, else 503 with the same body. `GET /metrics`: the Prometheus text.
 */
export function opsRoutes(deps: {
  metrics: Metrics;
  readiness: Readiness;
}): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (request, reply) => {
      let report: ReadinessReport;
      try {
        report = await deps.readiness.check();
      } catch (error) {
        request.log.warn({ err: String(error) }, 'readiness check failed');
        report = NOTHING_READY;
      }
      const ready = report.postgres && report.redis && report.workers;
      return reply.code(ready ? 200 : 503).send({
        postgres: report.postgres,
        redis: report.redis,
        workers: report.workers,
      });
    });
    app.get('/metrics', async (_request, reply) =>
      reply.type(deps.metrics.registry.contentType).send(await deps.metrics.render()),
    );
  };
}
