/**
 * The operator CLI's program: commander with `--help` on every command, unknown options and
 * arguments refused, and one mapping from what went wrong to an exit code:
 * 0 done; 1 some failed or held (set by the command); 2 bad usage, bad configuration, an unknown
 * customer, sweep or hold, or Postgres/Redis unreachable — with nothing changed.
 */
import { Command, CommanderError } from 'commander';

import { ConfigError } from '../config.js';
import { toError } from '../lib/errors.js';
import { NotFoundError, UnreachableError, UsageError } from '../ops/errors.js';
import { registerApprove } from './commands/approve.js';
import { registerEnqueue } from './commands/enqueue.js';
import { registerExplain } from './commands/explain.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPlan } from './commands/plan.js';
import { registerRetryFailed } from './commands/retryFailed.js';
import { registerStatus } from './commands/status.js';
import { registerSweep } from './commands/sweep.js';
import { CliContext, type CliIo } from './context.js';

/** Runs one command line; resolves to the exit code. Never calls `process.exit`. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = new CliContext(io);
  const program = new Command('customer-sync')
    .description('Keeps Airbyte Agent Engine workspaces in step with your customers table.')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false)
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .addHelpText(
      'after',
      '\nConfiguration comes from the environment (and .env): DATABASE_URL, REDIS_URL, QUEUE_PREFIX, AGENT_ENGINE_URL, ...\nExit codes: 0 done; 1 some failed or held; 2 could not start, bad usage, or unknown id.',
    );
  registerMigrate(program, ctx);
  registerPlan(program, ctx);
  registerSweep(program, ctx);
  registerEnqueue(program, ctx);
  registerStatus(program, ctx);
  registerApprove(program, ctx);
  registerRetryFailed(program, ctx);
  registerExplain(program, ctx);
  for (const command of program.commands) command.allowExcessArguments(false);

  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const err = toError(error);
    const refused = [ConfigError, UsageError, NotFoundError, UnreachableError].some(
      (k) => err instanceof k,
    );
    const hint = err instanceof UsageError ? ' (add --help for usage)' : '';
    for (const line of `${err.message}${hint}`.split('\n'))
      io.stderr.write(`customer-sync: ${line}\n`);
    return refused ? 2 : 1;
  }
}
