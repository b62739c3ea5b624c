/**
 * Runs the bundled CLI (a CommonJS file, build/cli.ts) through V8's code cache, as Node 22's
 * `module.enableCompileCache()` does and Node 20 cannot: the first run of a command compiles the
 * bundle and, when it ends well, saves what V8 compiled; later runs of that command hand it back
 * and skip the compiling (about a fifth of `status`'s start-up; docs/performance.md, CLI start-up).
 *
 * The cache is one file per bundle, Node version and command, in the user's own cache directory
 * (`$XDG_CACHE_HOME/customer-sync` or `~/.cache/customer-sync`, made private), never a shared
 * one: V8 runs what it is handed. V8 refuses a cache made by another V8, other flags or a source of
 * another length, and the bundle's content hash is in the file's name, so a rebuilt bundle never
 * meets an old cache; a refused one is replaced. Anything that goes wrong with the cache (no home,
 * a read-only disk) costs only the speed-up. `NODE_DISABLE_COMPILE_CACHE=1` turns it off, as it
 * does Node's own. `NODE_DEBUG=customer-sync` says what happened to it on stderr.
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { debuglog } from 'node:util';
import vm from 'node:vm';

const debug = debuglog('customer-sync');

export interface CachedRun {
  /** The bundle: CommonJS, ASCII only (read as Latin-1, the cheapest decoding). */
  readonly bundle: string;
  /** The bundle's content hash: a cache is named for it. */
  readonly hash: string;
  /** The command line after `node <entry>`. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Where this user's caches live, or undefined when turned off or there is no home. */
export function cacheDirectory(env: CachedRun['env']): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && xdg.startsWith('/')) return join(xdg, 'customer-sync');
  let home: string;
  try {
    home = env.HOME || homedir();
  } catch {
    return undefined;
  }
  return home ? join(home, '.cache', 'customer-sync') : undefined;
}

/** The cache file's name: bundle, Node, platform and the command (`default` for options only). */
export function cacheFileName(hash: string, argv: readonly string[]): string {
  const first = argv[0] ?? '';
  const command = /^[a-z][a-z-]{0,31}$/.test(first) ? first : 'default';
  return `cli-${hash.slice(0, 16)}-node${process.versions.node}-${process.arch}-${command}.v8`;
}

/** Compiles and runs the bundle as Node would run a CommonJS file, with the cache when it has one. */
export function runWithCodeCache(run: CachedRun): void {
  const directory = cacheDirectory(run.env);
  const file = directory && join(directory, cacheFileName(run.hash, run.argv));
  const cachedData = file ? readCache(file) : undefined;
  const source = readFileSync(run.bundle, 'latin1');
  const script = new vm.Script(wrap(source), { filename: run.bundle, cachedData });
  if (cachedData)
    debug(script.cachedDataRejected ? 'code cache refused: %s' : 'code cache used: %s', file);
  if (file && (!cachedData || script.cachedDataRejected)) {
    // What V8 compiled by the end of a run that went well: the command's own code paths.
    process.once('exit', (code) => {
      if (code === 0) saveCache(directory as string, file, run.hash, script);
    });
  }
  const module = { exports: {} };
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  fn.call(
    module.exports,
    module.exports,
    createRequire(run.bundle),
    module,
    run.bundle,
    dirname(run.bundle),
  );
}

/** Node's CommonJS wrapper. The bundle has no hashbang line (build/cli.ts leaves it out). */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    debug('no code cache yet: %s', file);
    return undefined;
  }
}

/** A cache of another bundle is removed once it is this old (another install may still use it). */
const STALE_MS = 24 * 60 * 60 * 1000;

/** Written whole or not at all (a temporary file renamed); then other bundles' stale caches go. */
function saveCache(directory: string, file: string, hash: string, script: vm.Script): void {
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    renameSync(temporary, file);
    debug('code cache written: %s', file);
  } catch (error) {
    debug('code cache not written: %s', (error as Error).message);
    return;
  }
  removeStale(directory, `cli-${hash.slice(0, 16)}-`);
}

/** Removes the caches of bundles other than `current` (a name prefix) once they are stale. */
function removeStale(directory: string, current: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(directory);
  } catch (error) {
    debug('stale code caches not looked for: %s', (error as Error).message);
  }
  for (const name of names) {
    if (!name.startsWith('cli-') || name.startsWith(current)) continue;
    const path = join(directory, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { force: true });
    } catch (error) {
      // Another run removed it first, or it is not ours to remove: it is left as it is.
      debug('stale code cache not removed: %s', (error as Error).message);
    }
  }
}
