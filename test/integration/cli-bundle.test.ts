/**
 * The CLI as `npm run build` ships it: one bundled file (build/cli.ts). Bundled here into a
 * scratch package laid out like this one (dist/cli/main.js beside migrations/ and node_modules/)
 * and run as an operator runs it, a child process: it finds the migrations, talks to Postgres and
 * Redis through the bundled drivers and BullMQ, and maps errors to the contract's exit codes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
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
  it('is one file, run by Node as is', async () => {
    // The scratch package has no other module of ours: every command below runs from this file.
    expect(await readdir(join(scratch, 'dist', 'cli'))).toEqual(['main.js']);
    expect((await readFile(bundle, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
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
});
