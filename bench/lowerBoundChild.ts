/** The lower bound's child process (see lowerBound.ts): prints `[coldPass, warmPass]` as JSON. */
import { performance } from 'node:perf_hooks';

import pg from 'pg';
import { Agent, request } from 'undici';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

async function pageEverything(base: string): Promise<{ listMs: number; pages: number }> {
  const dispatcher = new Agent({ connections: 1 });
  try {
    const t0 = performance.now();
    const token = await request(`${base}/api/v1/account/applications/token`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: env('CLIENT_ID'), client_secret: env('CLIENT_SECRET') }),
    });
    const { access_token: bearer } = (await token.body.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${bearer}` };
    let url: string | null = `${base}/api/v1/workspaces?limit=100`;
    let pages = 0;
    // Bounded: the simulator's `next` ends; a million workspaces is 10,001 pages.
    while (url && pages < 100_000) {
      const res = await request(url, { dispatcher, headers });
      if (res.statusCode !== 200) throw new Error(`list page answered ${res.statusCode}`);
      const page = (await res.body.json()) as { next: string | null };
      url = page.next;
      pages += 1;
    }
    return { listMs: performance.now() - t0, pages };
  } finally {
    await dispatcher.close();
  }
}

async function readCustomers(url: string): Promise<{ readMs: number; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t0 = performance.now();
    const { rowCount } = await client.query('select id, name, status from customers');
    return { readMs: performance.now() - t0, rows: rowCount ?? 0 };
  } finally {
    await client.end();
  }
}

const passes = [];
for (let i = 0; i < 2; i++) {
  const list = await pageEverything(env('SIM_URL'));
  const read = await readCustomers(env('DATABASE_URL'));
  passes.push({ ...list, ...read, totalMs: list.listMs + read.readMs });
}
process.stdout.write(JSON.stringify(passes));
