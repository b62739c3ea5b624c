/** The console's dependencies, as its plugin and routes see them. */
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { App } from '../app.js';
import type { LoginLimiter } from '../http/loginLimit.js';
import type { PageContext } from './layout.js';

/** What the console reads and acts through: the daemon's app, minus its workers. */
export type ConsoleApp = Pick<
  App,
  | 'pool'
  | 'source'
  | 'queues'
  | 'syncQueue'
  | 'breaker'
  | 'rateLimiter'
  | 'engine'
  | 'policy'
  | 'clock'
  | 'config'
>;

export interface ConsoleOptions {
  readonly token: string;
  /** Failed logins per address, counted with the queue dashboard's. */
  readonly logins: LoginLimiter;
  /** SWEEP_EVERY: the rolling window of the destructive-change limit, for the held page's why. */
  readonly windowMs: number;
}

/** Builds the page context of a request: who, and this browser's CSRF token (set on first visit). */
export type ContextOf = (request: FastifyRequest, reply: FastifyReply) => Promise<PageContext>;
