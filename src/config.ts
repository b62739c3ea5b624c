/**
 * Configuration: read from the environment (and a `.env` file) once, at start, by the composition
 * root, into a typed, frozen object. Nothing else reads `process.env`. A bad or missing value stops
 * the program with one line naming the variable and what it expected.
 */
import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { parse } from 'dotenv';
import { z } from 'zod';

import { parseRegion, REGION_EXPECTED } from './core/region.js';
import { HOUR, parseDuration, parseRate, type Rate, SECOND } from './lib/duration.js';
import { hashTag, parseRedisUrl, redactPassword } from './lib/redisClient.js';
import {
  type NotifyTable,
  parseNotifyTables,
  parseRelationName,
  type RelationName,
} from './lib/sqlNames.js';

export type OrphanPolicy = 'report' | 'deactivate' | 'delete';

export interface Config {
  /** Postgres holding `customers` and customer-sync's own tables. */
  readonly databaseUrl: string;
  /**
   * The table or view of customers (`id`, `name`, `status`): our own `customers` by default; a row
   * that leaves it counts as deleted.
   */
  readonly customersSource: RelationName;
  /** Base tables behind the source whose writes wake the daemons; empty: our own table is watched. */
  readonly customersNotifyTables: readonly NotifyTable[];
  /** Redis for the queue: one server, or a Redis Cluster (`redis+cluster://host:port,…`). */
  readonly redisUrl: string;
  /** BullMQ key prefix; `{braces}` make it a Redis Cluster hash tag (required on a cluster). */
  readonly queuePrefix: string;
  /** Agent Engine base URL, without `/api/v1`. */
  readonly agentEngineUrl: string;
  /** Application credentials; absent only for commands that never call the API. */
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  /** Sent as `X-Organization-Id`; learned from the token response when absent. */
  readonly organizationId: string | undefined;
  /** Standard Webhooks secrets (`whsec_…`), several during rotation; empty → the route answers 503. */
  readonly billingWebhookSecrets: readonly string[];
  /** Stripe endpoint secret; absent → the route answers 503. */
  readonly stripeWebhookSecret: string | undefined;
  /** Paddle notification destination's secret key; absent → `/webhooks/paddle` answers 503. */
  readonly paddleWebhookSecret: string | undefined;
  /** Chargebee webhook basic-auth credentials (both or neither); absent → 503. */
  readonly chargebeeWebhookAuth:
    { readonly username: string; readonly password: string } | undefined;
  /** Lago HMAC token (`hmac` endpoints); with the public key absent too → 503. */
  readonly lagoWebhookSecret: string | undefined;
  /** Lago RSA public key as PEM (`jwt` endpoints); read from PEM or Lago's base64 of the PEM. */
  readonly lagoWebhookPublicKey: string | undefined;
  /** Orb webhook secret; absent → `/webhooks/orb` answers 503. */
  readonly orbWebhookSecret: string | undefined;
  /** Polar webhook secret, as Polar shows it; absent → `/webhooks/polar` answers 503. */
  readonly polarWebhookSecret: string | undefined;
  /**
   * Metadata key under which Paddle (`custom_data`), Chargebee (`meta_data`) and Polar (`metadata`)
   * carry the customer's id in your system; absent, or absent on an event → the vendor's own id.
   */
  readonly billingCustomerIdKey: string | undefined;
  readonly port: number;
  readonly host: string;
  /** Interval of the scheduled full sweep. */
  readonly sweepEveryMs: number;
  /** Workspace name from a customer: `{name}` and `{id}` placeholders. */
  readonly workspaceNameTemplate: string;
  /** A deleted customer's workspace is deleted this long after it was first seen deleted. */
  readonly deleteGraceMs: number;
  /** Mass-change limit: destructive changes above both of these are held for approval. */
  readonly maxDestructivePerSweep: number;
  readonly maxDestructiveShare: number;
  /** What to do with workspaces linked to no customer. */
  readonly orphans: OrphanPolicy;
  /** Agent Engine calls across all daemons. */
  readonly apiRateLimit: Rate;
  readonly logLevel: string;
  /** Attempts per sync job before it is marked failed, and the first backoff delay. */
  readonly syncAttempts: number;
  readonly syncBackoffMs: number;
  /** Sync jobs one daemon runs at once. */
  readonly workerConcurrency: number;
  /** Refresh the application token this long before it expires. */
  readonly tokenRefreshSkewMs: number;
  /** Timeout of one Agent Engine request. */
  readonly requestTimeoutMs: number;
  /**
   * The longest pause a 429's `Retry-After` may impose; a longer one is treated as this. The pause
   * is shared by every daemon (stored next to the shared rate limit).
   */
  readonly maxRetryAfterMs: number;
  /** Audit rows, finished sweeps and sync state older than this are pruned by a daily job. */
  readonly retentionMs: number;
  /**
   * How long a job stays locked to a daemon without a heartbeat: a killed daemon's jobs are
   * retaken by the others after this (BullMQ's lockDuration and stalled check).
   */
  readonly lockDurationMs: number;
  /** How long a stopping daemon waits for in-flight jobs. */
  readonly shutdownTimeoutMs: number;
  /**
   * The region id a workspace is minted in when its customer's `region` is null (`DEFAULT_REGION`:
   * `us`, `eu` or a region id; default `us`).
   */
  readonly defaultRegion: string;
  /**
   * The login of the console (`/console`) and the queue dashboard (`/admin/queues`): a bearer
   * token or the basic-auth password, at least {@link MIN_DASHBOARD_TOKEN_LENGTH} characters;
   * absent → both are off.
   */
  readonly dashboardToken: string | undefined;
  /**
   * The proxies in front of the HTTP server whose `X-Forwarded-For` names the client (addresses,
   * CIDRs, or `loopback`, `linklocal`, `uniquelocal`); empty → none is believed, and the client
   * is the connection's peer. The console's login limit counts failures per client.
   */
  readonly trustProxy: readonly string[];
  /**
   * Where OpenTelemetry traces go (OTLP over HTTP), from the standard `OTEL_EXPORTER_OTLP_*`
   * variables; absent (or `OTEL_SDK_DISABLED=true`) → tracing off and no SDK loaded.
   */
  readonly otlpTracesUrl: string | undefined;
}

/** Where Postgres and Redis are looked for when DATABASE_URL and REDIS_URL are unset. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/customer_sync';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Env = Record<string, string | undefined>;

/** One variable: its default and how to read it; `expected` is what the error line says. */
function read<T>(
  env: Env,
  name: string,
  fallback: string | undefined,
  expected: string,
  parse: (raw: string) => T | undefined,
): T {
  const raw = env[name] === undefined || env[name] === '' ? fallback : env[name];
  if (raw === undefined) throw new ConfigError(`${name} is required: expected ${expected}`);
  const value = parse(raw);
  if (value === undefined) {
    throw new ConfigError(`${name}=${quote(name, raw)} is invalid: expected ${expected}`);
  }
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

/**
 * An optional id, secret or token: sent in headers or compared byte for byte, so only visible
 * ASCII without spaces (a pasted newline or quote would fail much later, far from its cause).
 */
function optionalWord(env: Env, name: string, expected: string): string | undefined {
  const raw = optional(env, name);
  if (raw !== undefined && !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError(`${name}=${quote(name, raw)} is invalid: expected ${expected}`);
  }
  return raw;
}

/**
 * Secrets are never echoed back, not even in the error that rejects them (nor a URL's password);
 * nor is anything named like one (`TOKEN_REFRESH_SKEW` too: the errors stay as they were).
 */
function quote(name: string, raw: string): string {
  const hidden = SECRET_NAMES.has(name) || /SECRET|TOKEN|PASSWORD/.test(name);
  return hidden ? '<hidden>' : JSON.stringify(redactPassword(raw));
}

const urlOf = (protocols: string[]) => (raw: string) => {
  try {
    const url = new URL(raw);
    return protocols.includes(url.protocol) ? raw : undefined;
  } catch {
    return undefined;
  }
};

const intIn = (min: number, max: number) => (raw: string) => {
  if (!/^\d+$/.test(raw.trim())) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
};

const duration =
  (min = 0) =>
  (raw: string) => {
    const ms = parseDuration(raw);
    return ms !== undefined && ms >= min ? ms : undefined;
  };

const share = (raw: string) => {
  const match = /^(\d+(?:\.\d+)?)%$/.exec(raw.trim());
  if (!match) return undefined;
  const n = Number(match[1]) / 100;
  return n > 0 && n <= 1 ? n : undefined;
};

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: string) =>
    values.includes(raw.trim() as T) ? (raw.trim() as T) : undefined;

/**
 * One environment variable as the docs' configuration table shows it (docs/configuration.md, "The
 * daemon and the CLI"; a unit test holds the two together).
 */
export interface Variable {
  readonly name: string;
  /** The value taken when it is unset or empty; undefined: none (the `—` of the table). */
  readonly default: string | undefined;
  /** One line: what it is for. */
  readonly meaning: string;
  /** Never echoed back, not even in the error that rejects it; scrubbed from every log line. */
  readonly secret: boolean;
}

/** How one field of {@link Config} is read: from its variables, in this order. */
interface Field<T> {
  readonly variables: readonly Variable[];
  readonly read: (env: Env) => T;
  /** The secret values held in the field (see {@link secretsOf}); absent: none. */
  secrets?(value: T): readonly (string | undefined)[];
}

const variable = (
  name: string,
  fallback: string | undefined,
  meaning: string,
  secret = false,
): Variable => Object.freeze({ name, default: fallback, meaning, secret });

/** A variable with a default (or none: then it is required), parsed by `parse`. */
function value<T>(
  name: string,
  fallback: string | undefined,
  expected: string,
  parse: (raw: string) => T | undefined,
  meaning: string,
): Field<T> {
  return {
    variables: [variable(name, fallback, meaning)],
    read: (env) => read(env, name, fallback, expected, parse),
  };
}

/** An optional id, secret or token (see {@link optionalWord}). */
function word(
  name: string,
  expected: string,
  meaning: string,
  secret = false,
): Field<string | undefined> {
  const field = {
    variables: [variable(name, undefined, meaning, secret)],
    read: (env: Env) => optionalWord(env, name, expected),
  };
  return secret ? { ...field, secrets: (v: string | undefined) => [v] } : field;
}

const secretWord = (name: string, meaning: string) =>
  word(name, 'a secret (no spaces)', meaning, true);

const webhookSecret = z.string().regex(/^whsec_[A-Za-z0-9+/=]{8,}$/);

/** Both Chargebee credentials, or neither: one alone is a mistake, not a half-open route. */
function chargebeeAuth(env: Env): Config['chargebeeWebhookAuth'] {
  const username = optional(env, 'CHARGEBEE_WEBHOOK_USERNAME');
  const password = optional(env, 'CHARGEBEE_WEBHOOK_PASSWORD');
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined || username.includes(':')) {
    throw new ConfigError(
      'CHARGEBEE_WEBHOOK_USERNAME and CHARGEBEE_WEBHOOK_PASSWORD are invalid: expected both set, the username without ":"',
    );
  }
  return Object.freeze({ username, password });
}

/** Lago's public key as PEM: given as PEM, or as Lago's API returns it (base64 of the PEM). */
function lagoPublicKey(env: Env): string | undefined {
  const raw = optional(env, 'LAGO_WEBHOOK_PUBLIC_KEY');
  if (raw === undefined) return undefined;
  const pem = raw.includes('-----BEGIN') ? raw : Buffer.from(raw, 'base64').toString('utf8');
  try {
    if (createPublicKey(pem).asymmetricKeyType === 'rsa') return pem.trim();
  } catch {
    // Reported below, without echoing the value.
  }
  throw new ConfigError(
    'LAGO_WEBHOOK_PUBLIC_KEY is invalid: expected an RSA public key, as PEM or base64 of the PEM',
  );
}

/** The shortest DASHBOARD_TOKEN accepted: one of a few characters could be guessed. */
export const MIN_DASHBOARD_TOKEN_LENGTH = 16;

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR (`10.0.0.0/8`, `fd00::/8`), or a named range of proxy addresses. */
function isProxy(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** `TRUST_PROXY`: absent (no proxy believed), or proxies separated by commas. */
function trustedProxies(env: Env): readonly string[] {
  const raw = optional(env, 'TRUST_PROXY');
  if (raw === undefined) return [];
  const entries = raw.split(',').map((entry) => entry.trim());
  if (!entries.every(isProxy)) {
    throw new ConfigError(
      `TRUST_PROXY=${quote('TRUST_PROXY', raw)} is invalid: expected addresses or CIDRs separated by commas (or loopback, linklocal, uniquelocal)`,
    );
  }
  return entries;
}

/** `DASHBOARD_TOKEN`: absent (console and dashboard off), or long enough not to be guessed. */
function dashboardToken(env: Env): string | undefined {
  const expected = `a token of at least ${MIN_DASHBOARD_TOKEN_LENGTH} characters, no spaces`;
  const token = optionalWord(env, 'DASHBOARD_TOKEN', expected);
  if (token !== undefined && token.length < MIN_DASHBOARD_TOKEN_LENGTH) {
    throw new ConfigError(
      `DASHBOARD_TOKEN=${quote('DASHBOARD_TOKEN', token)} is invalid: expected ${expected}`,
    );
  }
  return token;
}

/** `CUSTOMERS_NOTIFY_TABLES`: none unless set. */
function notifyTables(env: Env): readonly NotifyTable[] {
  const raw = optional(env, 'CUSTOMERS_NOTIFY_TABLES');
  if (raw === undefined) return [];
  return read(
    env,
    'CUSTOMERS_NOTIFY_TABLES',
    undefined,
    'table(id_column), comma-separated, e.g. organizations(org_id)',
    parseNotifyTables,
  );
}

/** `BILLING_WEBHOOK_SECRET`: none, or several `whsec_…` separated by spaces (during rotation). */
function billingSecrets(env: Env): readonly string[] {
  const billing = optional(env, 'BILLING_WEBHOOK_SECRET');
  const secrets = billing ? billing.split(/\s+/) : [];
  if (secrets.some((s) => !webhookSecret.safeParse(s).success)) {
    throw new ConfigError(
      'BILLING_WEBHOOK_SECRET is invalid: expected whsec_<base64>, several separated by spaces',
    );
  }
  return secrets;
}

const OTEL_SDK_DISABLED = variable('OTEL_SDK_DISABLED', 'false', '`true` keeps tracing off');

/**
 * Every field of {@link Config} and the variables it is read from, in the order they are read
 * (the first bad one is the one reported). `loadConfig` walks it; the docs' table, the secrets
 * hidden in errors and the values scrubbed from logs all come from it.
 */
const FIELDS: { readonly [K in keyof Config]: Field<Config[K]> } = {
  billingWebhookSecrets: {
    variables: [
      variable(
        'BILLING_WEBHOOK_SECRET',
        undefined,
        'Standard Webhooks secrets `whsec_<base64>`, space-separated during rotation',
        true,
      ),
    ],
    read: billingSecrets,
    secrets: (secrets) => secrets,
  },
  databaseUrl: value(
    'DATABASE_URL',
    DEFAULT_DATABASE_URL,
    'a postgres:// URL',
    urlOf(['postgres:', 'postgresql:']),
    'the database holding `customers`',
  ),
  customersSource: value(
    'CUSTOMERS_SOURCE',
    'customers',
    'a table or view name, optionally schema-qualified, e.g. app.customers_source',
    parseRelationName,
    'table or view of customers (`id`, `name`, `status`)',
  ),
  customersNotifyTables: {
    variables: [
      variable('CUSTOMERS_NOTIFY_TABLES', undefined, 'base tables behind the source that wake us'),
    ],
    read: notifyTables,
  },
  redisUrl: value(
    'REDIS_URL',
    DEFAULT_REDIS_URL,
    'a redis:// or rediss:// URL, or redis+cluster://host:port,host:port for a Redis Cluster',
    (raw) => (parseRedisUrl(raw) ? raw : undefined),
    "the queue's Redis: one server, or a Redis Cluster",
  ),
  queuePrefix: value(
    'QUEUE_PREFIX',
    'customer-sync',
    'a key prefix of letters, digits, -_:{}',
    (raw) => (/^[\w:{}-]+$/.test(raw) ? raw : undefined),
    'BullMQ key prefix (a hash tag on a Redis Cluster)',
  ),
  agentEngineUrl: value(
    'AGENT_ENGINE_URL',
    'https://api.airbyte.ai',
    'an http(s):// URL',
    (raw) => urlOf(['http:', 'https:'])(raw)?.replace(/\/+$/, ''),
    'Agent Engine base URL',
  ),
  clientId: word('AGENT_ENGINE_CLIENT_ID', 'the application client id', 'application client id'),
  clientSecret: word(
    'AGENT_ENGINE_CLIENT_SECRET',
    'the application client secret (no spaces)',
    'application client secret',
    true,
  ),
  organizationId: word(
    'AGENT_ENGINE_ORGANIZATION_ID',
    'the organization id (no spaces)',
    'sent as `X-Organization-Id`',
  ),
  stripeWebhookSecret: secretWord('STRIPE_WEBHOOK_SECRET', 'Stripe endpoint secret'),
  paddleWebhookSecret: secretWord('PADDLE_WEBHOOK_SECRET', 'Paddle destination secret key'),
  chargebeeWebhookAuth: {
    variables: [
      variable('CHARGEBEE_WEBHOOK_USERNAME', undefined, 'Chargebee webhook basic-auth username'),
      variable('CHARGEBEE_WEBHOOK_PASSWORD', undefined, 'its password', true),
    ],
    read: chargebeeAuth,
    secrets: (auth) => [auth?.password],
  },
  lagoWebhookSecret: secretWord('LAGO_WEBHOOK_SECRET', "Lago's HMAC token"),
  lagoWebhookPublicKey: {
    variables: [variable('LAGO_WEBHOOK_PUBLIC_KEY', undefined, "Lago's RSA public key")],
    read: lagoPublicKey,
  },
  orbWebhookSecret: secretWord('ORB_WEBHOOK_SECRET', 'Orb webhook endpoint secret'),
  polarWebhookSecret: secretWord('POLAR_WEBHOOK_SECRET', 'Polar webhook secret'),
  billingCustomerIdKey: word(
    'BILLING_CUSTOMER_ID_KEY',
    'a metadata key (no spaces)',
    'metadata key carrying your customer id',
  ),
  port: value('PORT', '8080', 'a port number 0-65535', intIn(0, 65535), 'HTTP port'),
  host: value(
    'HOST',
    '0.0.0.0',
    'a host name or address',
    (raw) => (/^[\w.:[\]-]+$/.test(raw.trim()) ? raw.trim() : undefined),
    'HTTP host',
  ),
  sweepEveryMs: value(
    'SWEEP_EVERY',
    '15m',
    'a duration of at least 1s like 30s, 15m, 1h',
    duration(SECOND),
    'interval of the scheduled full sweep',
  ),
  workspaceNameTemplate: value(
    'WORKSPACE_NAME_TEMPLATE',
    '{name}',
    'a template using {name} and/or {id}',
    (raw) => (/\{(name|id)\}/.test(raw) && !/\{(?!name\}|id\})[^}]*\}/.test(raw) ? raw : undefined),
    'workspace name from a customer',
  ),
  deleteGraceMs: value(
    'DELETE_GRACE',
    '7d',
    'a duration like 0, 1h, 7d',
    duration(),
    "how long a deleted customer's workspace is kept",
  ),
  maxDestructivePerSweep: value(
    'MAX_DESTRUCTIVE_PER_SWEEP',
    '20',
    'a whole number >= 0',
    intIn(0, 1_000_000_000),
    'mass-change limit: a count',
  ),
  maxDestructiveShare: value(
    'MAX_DESTRUCTIVE_SHARE',
    '10%',
    'a percentage like 10%',
    share,
    'mass-change limit: a share',
  ),
  orphans: value(
    'ORPHANS',
    'report',
    'one of report, deactivate, delete',
    oneOf(['report', 'deactivate', 'delete'] as const),
    'what to do with workspaces linked to no customer',
  ),
  apiRateLimit: value(
    'API_RATE_LIMIT',
    '10/s',
    'a rate like 10/s or 600/m',
    parseRate,
    'Agent Engine calls across all daemons',
  ),
  logLevel: value(
    'LOG_LEVEL',
    'info',
    `one of ${LOG_LEVELS.join(', ')}`,
    oneOf(LOG_LEVELS),
    'pino level',
  ),
  syncAttempts: value(
    'SYNC_ATTEMPTS',
    '8',
    'a whole number 1-100',
    intIn(1, 100),
    'attempts of a sync job',
  ),
  syncBackoffMs: value(
    'SYNC_BACKOFF',
    '1s',
    'a duration like 500ms or 1s',
    duration(1),
    "a sync job's first backoff",
  ),
  workerConcurrency: value(
    'WORKER_CONCURRENCY',
    '8',
    'a whole number 0-256 (0: run no jobs, only receive)',
    intIn(0, 256),
    'sync jobs one daemon runs at once',
  ),
  tokenRefreshSkewMs: value(
    'TOKEN_REFRESH_SKEW',
    '60s',
    'a duration like 60s',
    duration(),
    'refresh the token this long before it expires',
  ),
  requestTimeoutMs: value(
    'REQUEST_TIMEOUT',
    '30s',
    'a duration of at least 100ms',
    duration(100),
    'timeout of one Agent Engine request',
  ),
  maxRetryAfterMs: value(
    'MAX_RETRY_AFTER',
    '5m',
    'a duration of at least 1s like 5m',
    duration(SECOND),
    "the longest pause a 429's `Retry-After` imposes",
  ),
  retentionMs: value(
    'RETENTION',
    '90d',
    'a duration of at least 1h like 90d',
    duration(HOUR),
    'history older than this is pruned daily',
  ),
  lockDurationMs: value(
    'LOCK_DURATION',
    '30s',
    'a duration of at least 1s like 30s',
    duration(SECOND),
    "a killed daemon's jobs are retaken after this",
  ),
  shutdownTimeoutMs: value(
    'SHUTDOWN_TIMEOUT',
    '30s',
    'a duration like 30s',
    duration(),
    'how long a stopping daemon waits for its jobs',
  ),
  dashboardToken: {
    variables: [variable('DASHBOARD_TOKEN', undefined, 'the console and dashboard login', true)],
    read: dashboardToken,
    secrets: (token) => [token],
  },
  trustProxy: {
    variables: [variable('TRUST_PROXY', undefined, 'proxies whose X-Forwarded-For is believed')],
    read: trustedProxies,
  },
  defaultRegion: value(
    'DEFAULT_REGION',
    'us',
    REGION_EXPECTED,
    parseRegion,
    "region of a workspace whose customer's is null",
  ),
  otlpTracesUrl: {
    variables: [
      variable('OTEL_EXPORTER_OTLP_ENDPOINT', undefined, 'OTLP/HTTP base URL: tracing on'),
      variable('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', undefined, 'the traces URL as given'),
      OTEL_SDK_DISABLED,
    ],
    read: otlpTracesUrl,
  },
};

/** Every variable `loadConfig` reads, as the docs' configuration table lists them. */
export const VARIABLES: readonly Variable[] = Object.values(FIELDS).flatMap((f) => f.variables);

const SECRET_NAMES = new Set(VARIABLES.filter((v) => v.secret).map((v) => v.name));

/** Parses the environment into a frozen {@link Config}, or throws one {@link ConfigError}. */
export function loadConfig(env: Env): Config {
  const fields: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(FIELDS)) fields[key] = field.read(env);
  const config = fields as unknown as Config;
  assertClusterReady(config);
  return Object.freeze(config);
}

/**
 * On a Redis Cluster every key must hash to the prefix's slot (BullMQ's scripts touch many keys
 * at once, and a script across slots fails with CROSSSLOT): only a hash-tagged prefix does that.
 */
function assertClusterReady({ redisUrl, queuePrefix }: Config): void {
  if (parseRedisUrl(redisUrl)?.kind !== 'cluster' || hashTag(queuePrefix)) return;
  throw new ConfigError(
    `QUEUE_PREFIX=${JSON.stringify(queuePrefix)} is invalid with a Redis Cluster REDIS_URL: expected a hash-tagged prefix like {customer-sync}, so every key customer-sync uses hashes to one slot`,
  );
}

/**
 * The OTLP traces URL as the OpenTelemetry spec derives it: the signal-specific variable verbatim,
 * else the base endpoint plus `v1/traces`.
 */
function otlpTracesUrl(env: Env): string | undefined {
  const bool = (raw: string) => ({ true: true, false: false })[raw.toLowerCase()];
  if (read(env, OTEL_SDK_DISABLED.name, OTEL_SDK_DISABLED.default, 'true or false', bool)) {
    return undefined;
  }
  const httpUrl = (raw: string) => (/^https?:\/\/[^\s/]/.test(raw) ? raw : undefined);
  const expected = 'an http(s) URL like http://collector:4318';
  if (optional(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined) {
    return read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', undefined, expected, httpUrl);
  }
  if (optional(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') === undefined) return undefined;
  const base = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', undefined, expected, httpUrl);
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** Every secret value in the configuration: the logger scrubs each from every line. */
export function secretsOf(config: Config): string[] {
  const secretsIn = <K extends keyof Config>(key: K) => FIELDS[key].secrets?.(config[key]) ?? [];
  return (Object.keys(FIELDS) as (keyof Config)[])
    .flatMap((key) => secretsIn(key))
    .filter((s): s is string => Boolean(s));
}
/** The variables an Agent Engine caller cannot do without. */
export function requireCredentials(config: Config): { clientId: string; clientSecret: string } {
  if (!config.clientId) {
    throw new ConfigError('AGENT_ENGINE_CLIENT_ID is required: expected the application client id');
  }
  if (!config.clientSecret) {
    throw new ConfigError(
      'AGENT_ENGINE_CLIENT_SECRET is required: expected the application client secret',
    );
  }
  return { clientId: config.clientId, clientSecret: config.clientSecret };
}

/** Where Postgres and Redis come from on a person's machine (src/embedded/). */
export interface ServicesSettings {
  /** DATABASE_URL and REDIS_URL as set; undefined when unset (then: the default, or embedded). */
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** `EMBEDDED`: true (1), false (0), or undefined when unset (the demo: on; `npm start`: off). */
  readonly embedded: boolean | undefined;
  /** `EMBEDDED_DIR`, absolute: the embedded servers' data folder; `.customer-sync` by default. */
  readonly dir: string;
  /**
   * `EMBEDDED_TEST_DEFAULTS_CLOSED=1`, for customer-sync's own tests only (the demo's and
   * `EMBEDDED=1 npm start`'s, where a network namespace cannot be made): the default addresses
   * are looked for at a closed port, as on a machine where nothing listens.
   */
  readonly defaultsClosed: boolean;
}

/**
 * Reads the services' settings. `EMBEDDED=1` with `NODE_ENV=production` stops the program: the
 * embedded servers are for a person's machine, never silently for production.
 */
export function servicesSettings(env: Env, cwd = process.cwd()): ServicesSettings {
  const embedded =
    optional(env, 'EMBEDDED') === undefined
      ? undefined
      : read(env, 'EMBEDDED', undefined, '1 or 0', (raw) =>
          /^(1|true|yes)$/i.test(raw) ? true : /^(0|false|no)$/i.test(raw) ? false : undefined,
        );
  if (embedded && optional(env, 'NODE_ENV') === 'production') {
    throw new ConfigError(
      "EMBEDDED=1 is refused with NODE_ENV=production: the embedded Postgres and Redis are for a person's machine; set DATABASE_URL and REDIS_URL",
    );
  }
  return {
    databaseUrl: optional(env, 'DATABASE_URL'),
    redisUrl: optional(env, 'REDIS_URL'),
    embedded,
    dir: resolve(cwd, optional(env, 'EMBEDDED_DIR') ?? '.customer-sync'),
    defaultsClosed: optional(env, 'EMBEDDED_TEST_DEFAULTS_CLOSED') === '1',
  };
}

/** The environment with `.env` underneath it (real variables win). */
export async function readEnvironment(cwd = process.cwd()): Promise<Env> {
  let fromFile: Env = {};
  try {
    fromFile = parse(await readFile(`${cwd}/.env`, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { ...fromFile, ...process.env };
}
