#!/usr/bin/env node
/**
 * The operator CLI (`npm run cli -- <command>`, or the `customer-sync` bin). Reads the environment
 * (and `.env`) once and hands it to the program; exit codes are the program's. No top-level
 * await: the compiled CLI is this file bundled as CommonJS (build/cli.ts).
 */
import { readEnvironment } from '../config.js';
import { runCli } from './program.js';

// A reader that goes away (`customer-sync status | head -1`) is not an error: what is left to
// print has nobody to read it, and the command ends as it would have.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

void readEnvironment()
  .then((env) =>
    runCli(process.argv.slice(2), { env, stdout: process.stdout, stderr: process.stderr }),
  )
  .catch((error: unknown) => {
    // Only reading `.env` can fail here (the program maps everything else to an exit code).
    process.stderr.write(
      `customer-sync: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 2;
  })
  .then(async (code) => {
    // Everything is closed by now. Exiting once the output is flushed (pipes can be asynchronous)
    // spares the operator the wait for a stray handle and V8's tearing down of its heap (about
    // 40 ms, docs/performance.md: "What limits each row").
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  });

/** Resolves once what was written to `stream` has been handed to the system (or cannot be). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}
