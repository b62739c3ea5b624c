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
