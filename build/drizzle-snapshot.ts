/**
 * `npm run db:snapshot`: keeps drizzle's snapshot current. Migrations are SQL written by hand
 * (migrations/NNNN_name.sql, applied in migrations/meta/_journal.json order); drizzle-kit only
 * needs its newest snapshot to describe src/db/schema.ts, so that `drizzle-kit generate` finds
 * nothing to write. This runs `drizzle-kit generate` on a copy of migrations/ and, when it would
 * write a migration, keeps only the snapshot it made, in migrations/meta/ under the newest
 * migration's number (migrations/meta/0017_snapshot.json was written for 0017). No journal entry
 * and no SQL file are added.
 *
 * test/unit/drizzle-snapshot.test.ts fails while `pendingMigration` finds something.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const SNAPSHOT_COMMAND = 'npm run db:snapshot';

interface Generated {
  /** The SQL drizzle-kit would write ('' when it writes nothing). */
  sql: string;
  /** The snapshot it would write, or undefined. */
  snapshot?: Snapshot;
}

interface Snapshot {
  id: string;
  prevId: string;
  [key: string]: unknown;
}

/** What `drizzle-kit generate` would write from this checkout, run on a throwaway copy. */
export async function pendingMigration(root = ROOT): Promise<Generated> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-drizzle-'));
  try {
    await cp(join(root, 'migrations'), join(dir, 'migrations'), { recursive: true });
    const before = new Set(await listFiles(dir));
    // drizzle-kit resolves `out` against its working directory: run it in the copy.
    const config = {
      dialect: 'postgresql',
      schema: join(root, 'src/db/schema.ts'),
      out: './migrations',
    };
    await writeFile(join(dir, 'drizzle.config.ts'), `export default ${JSON.stringify(config)};\n`);
    const bin = join(root, 'node_modules', 'drizzle-kit', 'bin.cjs');
    await run(process.execPath, [bin, 'generate', '--config', 'drizzle.config.ts'], { cwd: dir });
    const written = (await listFiles(dir)).filter((f) => !before.has(f));
    const sqlFile = written.find((f) => f.endsWith('.sql'));
    const snapshotFile = written.find((f) => f.endsWith('_snapshot.json'));
    return {
      sql: sqlFile ? await readFile(join(dir, sqlFile), 'utf8') : '',
      ...(snapshotFile && {
        snapshot: JSON.parse(await readFile(join(dir, snapshotFile), 'utf8')) as Snapshot,
      }),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const top = await readdir(join(dir, 'migrations'));
  const meta = await readdir(join(dir, 'migrations', 'meta'));
  return [...top.map((f) => join('migrations', f)), ...meta.map((f) => join('migrations/meta', f))];
}

/**
 * Writes the snapshot of schema.ts as the newest migration's: returns its path, or undefined when
 * the snapshot was already current.
 */
export async function writeSnapshot(root = ROOT): Promise<string | undefined> {
  const { snapshot } = await pendingMigration(root);
  if (!snapshot) return undefined;
  const meta = join(root, 'migrations', 'meta');
  const journal = JSON.parse(await readFile(join(meta, '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  };
  const newest = journal.entries.at(-1)?.tag.match(/^\d+/)?.[0];
  if (!newest) throw new Error('migrations/meta/_journal.json lists no numbered migration');
  const name = `${newest}_snapshot.json`;
  const existing = (await readdir(meta)).filter((f) => f.endsWith('_snapshot.json')).sort();
  const last = existing.at(-1);
  if (last && last > name) {
    throw new Error(`${last} sorts after ${name}: drizzle-kit reads the last one; remove it first`);
  }
  if (last === name) {
    // Rewriting the newest snapshot: it keeps its place in the chain.
    const previous = JSON.parse(await readFile(join(meta, name), 'utf8')) as Snapshot;
    snapshot.id = previous.id;
    snapshot.prevId = previous.prevId;
  }
  const path = join(meta, name);
  await writeFile(path, `${JSON.stringify(snapshot, null, 2)}\n`);
  return path;
}

async function main(): Promise<void> {
  const path = await writeSnapshot();
  if (!path) {
    console.log('drizzle snapshot is current: drizzle-kit generate writes nothing');
    return;
  }
  const left = await pendingMigration();
  if (left.snapshot) throw new Error(`still not current after writing ${path}:\n${left.sql}`);
  console.log(`wrote ${path}; drizzle-kit generate now writes nothing`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
