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
import { CliContext, type CliIo } from './context.js';

type Register = (program: Command, ctx: CliContext) => void;

/**
 * Every command, loaded on demand: a command line loads only its own command's module (and what
 * that imports), so `status` does not pay for `sweep --wait`'s progress bars or `plan`'s planner.
 * `--help` and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  migrate: async () => (await import('./commands/migrate.js')).registerMigrate,
  plan: async () => (await import('./commands/plan.js')).registerPlan,
  sweep: async () => (await import('./commands/sweep.js')).registerSweep,
  enqueue: async () => (await import('./commands/enqueue.js')).registerEnqueue,
  status: async () => (await import('./commands/status.js')).registerStatus,
  approve: async () => (await import('./commands/approve.js')).registerApprove,
  'retry-failed': async () => (await import('./commands/retryFailed.js')).registerRetryFailed,
  explain: async () => (await import('./commands/explain.js')).registerExplain,
  adopt: async () => (await import('./commands/adopt.js')).registerAdopt,
};

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
  const named = argv[0] !== undefined && Object.hasOwn(COMMANDS, argv[0]) ? [argv[0]] : undefined;
  for (const name of named ?? Object.keys(COMMANDS)) {
    const load = COMMANDS[name];
    if (load) (await load())(program, ctx);
  }
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
