/**
 * Workspace names from `WORKSPACE_NAME_TEMPLATE`: `{name}` and `{id}` are replaced by the
 * customer's. The same rule is written once more as SQL (`nameSql`) so the sweep can find name
 * collisions inside Postgres; tests check the two agree.
 */
export function workspaceName(template: string, customer: { id: string; name: string }): string {
  return template.replace(/\{(name|id)\}/g, (_, key: string) =>
    key === 'name' ? customer.name : customer.id,
  );
}

/**
 * A SQL expression over a table alias with `id` and `name` columns giving the same result as
 * {@link workspaceName}. The template's literal parts are bound as parameters by the caller, so
 * this returns the expression and the values to bind, numbered from `firstParam`.
 */
export function nameSql(
  template: string,
  alias: string,
  firstParam: number,
): { sql: string; params: string[] } {
  const parts = template.split(/(\{name\}|\{id\})/).filter((p) => p !== '');
  const params: string[] = [];
  const pieces = parts.map((part) => {
    if (part === '{name}') return `${alias}.name`;
    if (part === '{id}') return `${alias}.id`;
    params.push(part);
    return `$${firstParam + params.length - 1}::text`;
  });
  return { sql: pieces.length === 1 ? pieces[0]! : `(${pieces.join(' || ')})`, params };
}

/**
 * Whether the customer has no name to give its workspace: NULL in the source (read as empty),
 * empty, or only whitespace, while the template uses `{name}`. Such a customer gets no workspace
 * (never one called "null" or "Acme-"), and a workspace it has keeps its name: the planner
 * reports it as a conflict, a permanent failure a person sees.
 */
export const lacksName = (template: string, customer: { name: string }): boolean =>
  template.includes('{name}') && customer.name.trim() === '';

/** Why a customer without a name gets nothing. */
export const noNameReason = (customerId: string, workspace: string | null): string =>
  `customer ${customerId} has no name (NULL, empty or blank in the source): ` +
  (workspace === null
    ? 'no workspace is made for it until it has one'
    : `workspace ${workspace} keeps its name until it has one`);
