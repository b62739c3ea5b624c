#!/usr/bin/env node
/**
 * The operator CLI (`npm run cli -- <command>`, or the `customer-sync` bin). Reads the environment
 * (and `.env`) once and hands it to the program; exit codes are the program's.
 */
import { readEnvironment } from '../config.js';
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), {
  env: await readEnvironment(),
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
// Everything is closed by now; a stray handle must not keep an operator's shell waiting.
setTimeout(() => process.exit(code), 2_000).unref();
