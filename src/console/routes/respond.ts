/** What the console's routes share: their dependencies, and how they answer. */
import type { FastifyReply } from 'fastify';

import type { Html } from '../html.js';
import { CONSOLE_PATH } from '../layout.js';
import type { ConsoleApp, ConsoleOptions, ContextOf } from '../types.js';

/** What every route is built from. */
export interface RouteDeps {
  readonly app: ConsoleApp;
  readonly options: ConsoleOptions;
  readonly contextOf: ContextOf;
}

/** How many rows a list page shows. */
export const LIST_LIMIT = 1000;

export type Form = Record<string, string | undefined>;
export type Query = Record<string, string | undefined>;

export const send = (reply: FastifyReply, markup: Html, code = 200) =>
  reply.code(code).type('text/html; charset=utf-8').send(markup.value);

export const seeOther = (reply: FastifyReply, path: string) =>
  reply.code(303).redirect(`${CONSOLE_PATH}${path}`);

/** A count from a redirect's query string (only digits are read back). */
export const countParam = (value: string | undefined) =>
  value && /^\d{1,9}$/.test(value) ? Number(value) : null;
