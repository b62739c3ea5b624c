/**
 * The naive peer, the obvious script a team writes first: for every customer, mint a scoped token
 * by name (get-or-create), read the workspace id with it, GET the workspace, PUT if it differs.
 * Sequential, keep-alive, no rate limiter. Prints `{ ms, customers, puts }` as JSON.
 */
import { performance } from 'node:perf_hooks';

import pg from 'pg';
import { Agent, request } from 'undici';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const base = `${env('SIM_URL')}/api/v1`;
const dispatcher = new Agent({ connections: 1 });

async function call<T>(
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  bearer: string | null,
  body?: unknown,
): Promise<T> {
  const res = await request(`${base}${path}`, {
    method,
    dispatcher,
    headers: {
      'content-type': 'application/json',
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.body.json()) as T;
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode}`);
  return json;
}

const client = new pg.Client({ connectionString: env('DATABASE_URL') });
await client.connect();
const t0 = performance.now();
const { rows } = await client.query<{ id: string; name: string; status: string }>(
  'select id, name, status from customers where status <> $1 order by id',
  ['deleted'],
);
await client.end();
const app = await call<{ access_token: string }>('POST', '/account/applications/token', null, {
  client_id: env('CLIENT_ID'),
  client_secret: env('CLIENT_SECRET'),
});
let puts = 0;
for (const customer of rows) {
  const { token } = await call<{ token: string }>(
    'POST',
    '/account/applications/scoped-token',
    app.access_token,
    {
      workspace_name: customer.name,
    },
  );
  const info = await call<{ workspace_id: string }>(
    'GET',
    '/account/applications/scoped-token/info',
    token,
  );
  const ws = await call<{ name: string; status: string }>(
    'GET',
    `/workspaces/${info.workspace_id}`,
    app.access_token,
  );
  if (ws.name !== customer.name || ws.status !== customer.status) {
    await call('PUT', `/workspaces/${info.workspace_id}`, app.access_token, {
      name: customer.name,
      status: customer.status,
    });
    puts += 1;
  }
}
await dispatcher.close();
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, customers: rows.length, puts }));
