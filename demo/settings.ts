/**
 * The demo's configuration, built from the user's environment with two guards: it only ever
 * resets a database and a Redis prefix whose names say `demo`, and it always talks to its own
 * in-process simulator, whatever `.env` says about a real Agent Engine.
 */
import { Webhook } from 'standardwebhooks';

/** The demo simulator's application credentials (the simulator's defaults). */
export const DEMO_CLIENT_ID = 'demo-client-id';
export const DEMO_CLIENT_SECRET = 'demo-client-secret';
/** Standard Webhooks secret for the demo's billing route (`whsec_` + base64). */
export const DEMO_WEBHOOK_SECRET = `whsec_${Buffer.from('customer-sync demo webhook secret').toString('base64')}`;
export const DEMO_PREFIX = 'customer-sync-demo';
/** The demo dashboard's token (basic-auth password, any user name). */
export const DEMO_DASHBOARD_TOKEN = 'demo-dashboard-token';
export const DEMO_DATABASE = 'customer_sync_demo';

type Env = Readonly<Record<string, string | undefined>>;

export interface DemoSettings {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly port: number;
  readonly logLevel: string;
  /** Things the demo changed from what the environment asked, said once at start. */
  readonly notes: string[];
}

/** Reads DATABASE_URL, REDIS_URL, QUEUE_PREFIX, PORT and LOG_LEVEL, applying the guards. */
export function demoSettings(env: Env): DemoSettings {
  const notes: string[] = [];
  const db = new URL(env.DATABASE_URL || `postgres://postgres@127.0.0.1:5432/${DEMO_DATABASE}`);
  const dbName = decodeURIComponent(db.pathname.slice(1));
  if (!/demo/i.test(dbName)) {
    db.pathname = `/${DEMO_DATABASE}`;
    notes.push(
      `using database ${DEMO_DATABASE} on that server: the demo resets its tables, so it leaves "${dbName}" alone`,
    );
  }
  let prefix = env.QUEUE_PREFIX || DEMO_PREFIX;
  if (!/demo/i.test(prefix)) {
    notes.push(
      `using queue prefix ${DEMO_PREFIX}: the demo clears its keys, so it leaves "${prefix}" alone`,
    );
    prefix = DEMO_PREFIX;
  }
  const port = env.PORT === undefined || env.PORT === '' ? 8080 : Number(env.PORT);
  return {
    databaseUrl: db.toString(),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    prefix,
    port: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : 8080,
    logLevel: env.LOG_LEVEL || 'warn',
    notes,
  };
}

/** The environment `loadConfig` reads for the demo's daemon. */
export function demoEnvironment(
  settings: DemoSettings,
  simUrl: string,
  port: number,
): Record<string, string> {
  return {
    DATABASE_URL: settings.databaseUrl,
    REDIS_URL: settings.redisUrl,
    QUEUE_PREFIX: settings.prefix,
    AGENT_ENGINE_URL: simUrl,
    AGENT_ENGINE_CLIENT_ID: DEMO_CLIENT_ID,
    AGENT_ENGINE_CLIENT_SECRET: DEMO_CLIENT_SECRET,
    BILLING_WEBHOOK_SECRET: DEMO_WEBHOOK_SECRET,
    DASHBOARD_TOKEN: DEMO_DASHBOARD_TOKEN,
    HOST: '127.0.0.1',
    PORT: String(port),
    API_RATE_LIMIT: '200/s',
    LOG_LEVEL: settings.logLevel,
  };
}

/** A billing webhook delivery signed now with the demo's secret (valid for 5 minutes). */
export function signedWebhook(
  url: string,
  event: { type: string; data: Record<string, string> },
  now = new Date(),
): { url: string; headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ type: event.type, timestamp: now.toISOString(), data: event.data });
  const id = `msg_demo_${now.getTime().toString(36)}`;
  const signature = new Webhook(DEMO_WEBHOOK_SECRET).sign(id, now, body);
  return {
    url: `${url}/webhooks/billing`,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body,
  };
}

/** Single-quotes a value for sh. */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The delivery as a ready-to-paste `curl` command, one option per line. */
export function curlCommand(request: ReturnType<typeof signedWebhook>): string {
  const lines = [`curl -sS -i -X POST ${shellQuote(request.url)}`];
  for (const [name, value] of Object.entries(request.headers))
    lines.push(`  -H ${shellQuote(`${name}: ${value}`)}`);
  lines.push(`  --data ${shellQuote(request.body)}`);
  return lines.join(' \\\n');
}
