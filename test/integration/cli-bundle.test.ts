/**
 * The CLI as `npm run build` ships it: one bundled file and its entry (build/cli.ts). Bundled here
 * into a scratch package laid out like this one (dist/cli/ beside migrations/ and node_modules/)
 * and run as an operator runs it, a child process: it finds the migrations, talks to Postgres and
 * Redis through the bundled drivers and BullMQ, maps errors to the contract's exit codes, and
 * keeps V8's code cache per command in the user's cache directory (src/cli/codeCache.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { bundleCli } from '../../build/cli.js';
import { withDatabase } from '../support/global-setup.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const base = inject('databaseUrl');
const database = `cs_b_${randomBytes(4).toString('hex')}`;
const prefix = uniquePrefix('bundle');
let scratch = '';
let bundle = '';
/** The scratch user's cache directory (`XDG_CACHE_HOME`), and the CLI's folder in it. */
let cacheHome = '';
let caches = '';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bundle, ...args],
      {
        cwd: scratch,
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: withDatabase(base, database),
          REDIS_URL: redisUrl(),
          QUEUE_PREFIX: prefix,
          XDG_CACHE_HOME: cacheHome,
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cs-bundle-'));
  bundle = join(scratch, 'dist', 'cli', 'main.js');
  cacheHome = join(scratch, 'cache');
  caches = join(cacheHome, 'customer-sync');
  await mkdir(join(scratch, 'dist', 'cli'), { recursive: true });
  await symlink(join(ROOT, 'migrations'), join(scratch, 'migrations'));
  await symlink(join(ROOT, 'node_modules'), join(scratch, 'node_modules'));
  await bundleCli(bundle);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await deletePrefix(prefix);
  const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
});

describe('the bundled CLI', () => {
  it('is one bundle and its entry, run by Node as they are', async () => {
    // The scratch package has no other module of ours: every command below runs from these.
    expect((await readdir(join(scratch, 'dist', 'cli'))).sort()).toEqual([
      'cli.cjs',
      'cli.cjs.LEGAL.txt',
      'main.js',
    ]);
    expect((await readFile(bundle, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    // Read as Latin-1 by the entry: that is only the same text when it is ASCII.
    const source = await readFile(join(scratch, 'dist', 'cli', 'cli.cjs'), 'latin1');
    expect(source.startsWith('"use strict";')).toBe(true);
    expect(source).not.toMatch(/[\u0080-\u00ff]/);
  });

  it('migrates a new database, then prints the status as JSON', async () => {
    const migrated = await run(['migrate']);
    expect(migrated, migrated.stderr).toMatchObject({ code: 0 });
    expect(migrated.stdout).toContain('migrations applied');

    const status = await run(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as {
      queue: Record<string, number | boolean>;
      sweeps: unknown[];
      breaker: string;
    };
    expect(report.queue).toMatchObject({ waiting: 0, active: 0, failed: 0, paused: false });
    expect(report.sweeps).toEqual([]);
    expect(report.breaker).toBe('closed');
  });

  it('lists every command, and refuses bad usage with exit code 2', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const command of [
      'migrate',
      'plan',
      'sweep',
      'enqueue',
      'status',
      'approve',
      'retry-failed',
      'explain',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const bad = await run(['status', '--sweeps', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a whole number >= 1');
  });

  it('stops quietly when its reader goes away (`| head`), with no stack trace', async () => {
    const child = spawn(process.execPath, [bundle, '--help'], {
      cwd: scratch,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader is gone before the first line is written: every write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('keeps a code cache per command, used on the next run and replaced when V8 refuses it', async () => {
    await rm(caches, { recursive: true, force: true });
    const debug = { NODE_DEBUG: 'customer-sync' };
    const first = await run(['status', '--json'], debug);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/no code cache yet: .*-status\.v8/);
    expect(first.stderr).toMatch(/code cache written: .*-status\.v8/);
    const [file, ...others] = await readdir(caches);
    expect(others).toEqual([]);
    expect(file).toMatch(
      new RegExp(`^cli-[0-9a-f]{16}-node${process.versions.node}-${process.arch}-status\\.v8$`),
    );

    const second = await run(['status', '--json'], debug);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/code cache used: .*-status\.v8/);
    expect(second.stderr).not.toContain('written');
    expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout));

    // A cache that is not V8's (or another V8's): refused, the command runs, and it is replaced.
    const path = join(caches, file as string);
    await writeFile(path, randomBytes(4096));
    const third = await run(['status', '--json'], debug);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain('code cache refused');
    expect(third.stderr).toContain('code cache written');
    const fourth = await run(['status', '--json'], debug);
    expect(fourth.stderr).toContain('code cache used');
  });

  it("removes other bundles' caches once a day old, and nothing else", async () => {
    await rm(caches, { recursive: true, force: true });
    await mkdir(caches, { recursive: true });
    const node = `node${process.versions.node}-${process.arch}`;
    const stale = `cli-${'0'.repeat(16)}-${node}-status.v8`;
    const recent = `cli-${'1'.repeat(16)}-${node}-status.v8`;
    const notOurs = 'notes.txt';
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    for (const name of [stale, recent, notOurs]) await writeFile(join(caches, name), 'x');
    for (const name of [stale, notOurs]) await utimes(join(caches, name), twoDaysAgo, twoDaysAgo);

    const ran = await run(['status', '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    const left = (await readdir(caches)).sort();
    expect(left).not.toContain(stale);
    expect(left).toEqual(expect.arrayContaining([recent, notOurs]));
    // And this bundle's own, just written.
    expect(left.filter((name) => ![recent, notOurs].includes(name))).toEqual([
      expect.stringMatching(/-status\.v8$/),
    ]);
  });

  it('caches only a run that went well, and runs without one where it cannot or must not', async () => {
    await rm(caches, { recursive: true, force: true });
    // A failed run has not compiled what the command needs: its cache would stay poor for good.
    const bad = await run(['status', '--sweeps', '0']);
    expect(bad.code).toBe(2);
    await expect(readdir(caches)).rejects.toThrow(/ENOENT/);

    const off = await run(['status', '--json'], { NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(off.code, off.stderr).toBe(0);
    await expect(readdir(caches)).rejects.toThrow(/ENOENT/);

    // A cache home that cannot hold a folder (a file is in the way): the command is unharmed.
    const blocked = join(scratch, 'blocked');
    await writeFile(blocked, '');
    const unwritable = await run(['status', '--json'], {
      XDG_CACHE_HOME: blocked,
      NODE_DEBUG: 'customer-sync',
    });
    expect(unwritable.code, unwritable.stderr).toBe(0);
    expect(unwritable.stderr).toContain('code cache not written');
    expect(JSON.parse(unwritable.stdout)).toMatchObject({ breaker: 'closed' });
  });
});
