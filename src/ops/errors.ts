/**
 * What the operator's commands refuse, apart from configuration errors: the CLI turns both into
 * one line on stderr and exit 2, with nothing changed.
 */

/** The command was given arguments it cannot act on. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command names a customer, sweep or hold that does not exist. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** Postgres or Redis cannot be reached: says which, where, and how to start it. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

/** The one line for an unreachable service. */
export function unreachable(
  service: 'Postgres' | 'Redis',
  address: string,
  reason: string,
): UnreachableError {
  const variable = service === 'Postgres' ? 'DATABASE_URL' : 'REDIS_URL';
  return new UnreachableError(
    `cannot reach ${service} at ${address} (${reason}); start it with \`docker compose up -d postgres redis\` or set ${variable}`,
  );
}
