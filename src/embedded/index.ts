/**
 * Postgres and Redis for a person's machine: the URL given when one is set; else the default
 * address when something answers there; else, when allowed, a real server of our own in the data
 * folder (`.customer-sync/` by default), said in one line each and stopped by `stop()`. One
 * process at a time owns a folder's servers (`owner.pid`); a dead owner's leftovers are stopped.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';

import { checkPostgres, checkRedis } from '../ops/preflight.js';
import { startEmbeddedPostgres } from './postgres.js';
import { alive, type EmbeddedServer } from './processes.js';
import { startEmbeddedRedis } from './redis.js';

export interface ServicesOptions {
  /** DATABASE_URL as set; undefined when unset. */
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** Where to look when unset; an embedded server gets this URL's database name. */
  readonly defaultDatabaseUrl: string;
  readonly defaultRedisUrl: string;
  /**
   * For customer-sync's own tests: look for the defaults at a closed port, as on a machine where
   * nothing listens (EMBEDDED_TEST_DEFAULTS_CLOSED=1).
   */
  readonly defaultsClosed?: boolean;
  /** Whether servers of our own may be started; if not, the defaults are used as they are. */
  readonly embedded: boolean;
  /** The data folder. */
  readonly dir: string;
  /** Where the one-line notices go. */
  readonly say: (line: string) => void;
}

export interface Services {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly embeddedPostgres: boolean;
  readonly embeddedRedis: boolean;
  /** Stops the servers started here (Redis first, then Postgres); safe to call twice. */
  stop(): Promise<void>;
}

/** Resolves both services, starting embedded ones where needed. */
export async function provideServices(options: ServicesOptions): Promise<Services> {
  const { dir, say } = options;
  const probe = (url: string) => (options.defaultsClosed ? atClosedPort(url) : url);
  const [pgAnswers, redisAnswers] = await Promise.all([
    options.databaseUrl || !options.embedded
      ? true
      : answers(checkPostgres(probe(options.defaultDatabaseUrl))),
    options.redisUrl || !options.embedded
      ? true
      : answers(checkRedis(probe(options.defaultRedisUrl))),
  ]);
  const started: EmbeddedServer[] = [];
  let owned = false;
  const stop = async () => {
    for (const server of started.splice(0).reverse()) await server.stop();
    if (owned) await rm(join(dir, 'owner.pid'), { force: true });
    owned = false;
  };
  let databaseUrl = options.databaseUrl || options.defaultDatabaseUrl;
  let redisUrl = options.redisUrl || options.defaultRedisUrl;
  try {
    if (!pgAnswers || !redisAnswers) {
      await own(dir);
      owned = true;
    }
    const inside = relative(process.cwd(), dir);
    const shown = inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : dir;
    const notice = (service: string, wanted: string, ms: number, folder: string) =>
      `${service}: nothing answers at ${hostOf(probe(wanted))}; started an embedded one in ${(ms / 1000).toFixed(1)}s (data in ${join(shown, folder)})`;
    // Both at once; whichever started is stopped again should the other fail.
    const [pgServer, redisServer] = await Promise.allSettled([
      pgAnswers ? undefined : timed(startEmbeddedPostgres(dir)),
      redisAnswers ? undefined : timed(startEmbeddedRedis(dir)),
    ]);
    for (const result of [pgServer, redisServer]) {
      if (result.status === 'fulfilled' && result.value) started.push(result.value.server);
    }
    for (const result of [pgServer, redisServer]) {
      if (result.status === 'rejected') throw result.reason;
    }
    if (pgServer.status === 'fulfilled' && pgServer.value) {
      databaseUrl = onServer(options.defaultDatabaseUrl, pgServer.value.server.url);
      say(notice('Postgres', options.defaultDatabaseUrl, pgServer.value.ms, 'postgres'));
    }
    if (redisServer.status === 'fulfilled' && redisServer.value) {
      redisUrl = redisServer.value.server.url;
      say(notice('Redis', options.defaultRedisUrl, redisServer.value.ms, 'redis'));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    databaseUrl,
    redisUrl,
    embeddedPostgres: !pgAnswers,
    embeddedRedis: !redisAnswers,
    stop,
  };
}

const answers = (check: Promise<void>) =>
  check.then(
    () => true,
    () => false,
  );

/** Takes the folder for this process, unless a live one holds it. */
async function own(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'owner.pid');
  const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
    throw new Error(
      `the embedded servers in ${dir} are in use by process ${owner} (another demo, or EMBEDDED=1 npm start): stop it first, or set EMBEDDED_DIR to another folder`,
    );
  }
  await writeFile(file, `${process.pid}\n`);
}

/** `wanted` (its database name) on the embedded server's address. */
function onServer(wanted: string, server: string): string {
  const url = new URL(wanted);
  const at = new URL(server);
  url.host = at.host;
  url.username = at.username;
  url.password = '';
  return url.toString();
}

/** The URL on port 1, where nothing listens. */
function atClosedPort(url: string): string {
  const u = new URL(url);
  u.port = '1';
  return u.toString();
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The server and how long it took to answer. */
async function timed(
  starting: Promise<EmbeddedServer>,
): Promise<{ server: EmbeddedServer; ms: number }> {
  const t0 = performance.now();
  const server = await starting;
  return { server, ms: performance.now() - t0 };
}
