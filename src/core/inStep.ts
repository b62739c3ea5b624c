/**
 * What "in step" means, in one place: a customer whose workspace needs nothing. Pure, no I/O.
 * The rule has two forms, side by side here: {@link inStep} for the planner, which decides
 * nothing for such a customer, and {@link inStepSql}, with which the sweep leaves such customers
 * out in Postgres, so a steady sweep never ships the fleet to the daemon: it stages as candidates
 * the customers not in step with their links' last-known state, adds those whose link the listing
 * contradicts (`diffLinks`), and plans those still not in step with the listing.
 * `test/integration/in-step-rule.test.ts` checks that the two forms agree, and that the planner
 * decides nothing for a customer the SQL leaves out.
 *
 * In step: the customer is not deleted, has a name when the template uses one (NULL or empty
 * is none), and its linked workspace bears the desired name and the customer's status. Whatever
 * else the planner checks (a blank name, a workspace named like the organization's default) only
 * ever leaves a workspace alone, so it cannot matter for a customer in step.
 */
import type { Customer, WorkspaceState } from './types.js';

const usesName = (template: string) => template.includes('{name}');

/** Whether `customer`, whose desired workspace name is `desired`, is in step with `workspace`. */
export function inStep(
  customer: Pick<Customer, 'name' | 'status'>,
  workspace: Pick<WorkspaceState, 'name' | 'status'>,
  desired: string,
  template: string,
): boolean {
  return (
    customer.status !== 'deleted' &&
    (!usesName(template) || customer.name !== '') &&
    workspace.name === desired &&
    workspace.status === customer.status
  );
}

/** The SQL expressions {@link inStepSql} reads: columns, or expressions over them. */
export interface InStepColumns {
  /** The customer's name (NULL when the source has none: `inStep` reads it as empty). */
  readonly name: string;
  readonly status: string;
  readonly workspaceName: string;
  readonly workspaceStatus: string;
  /** The desired name (`nameSql` of the same template). */
  readonly desired: string;
}

/**
 * {@link inStep} as a SQL condition: true or false, never NULL (a NULL anywhere, such as no link
 * or no listed workspace, is not in step).
 */
export function inStepSql(template: string, c: InStepColumns): string {
  const named = usesName(template) ? ` and ${c.name} <> ''` : '';
  return (
    `coalesce(${c.status} <> 'deleted'${named} and ${c.workspaceName} = ${c.desired}` +
    ` and ${c.workspaceStatus} = ${c.status}, false)`
  );
}
