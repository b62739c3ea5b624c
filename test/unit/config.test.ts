import { describe, expect, it } from 'vitest';

import { generateKeyPairSync } from 'node:crypto';

import {
  ConfigError,
  loadConfig,
  requireCredentials,
  secretsOf,
  servicesSettings,
  VARIABLES,
} from '../../src/config.js';
import { DAY, MINUTE, SECOND } from '../../src/lib/duration.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/customer_sync',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'customer-sync',
      agentEngineUrl: 'https://api.airbyte.ai',
      port: 8080,
      host: '0.0.0.0',
      sweepEveryMs: 15 * MINUTE,
      workspaceNameTemplate: '{name}',
      deleteGraceMs: 7 * DAY,
      maxDestructivePerSweep: 20,
      maxDestructiveShare: 0.1,
      orphans: 'report',
      apiRateLimit: { max: 10, perMs: SECOND },
      logLevel: 'info',
      billingWebhookSecrets: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads durations, rates, shares and several webhook secrets', () => {
    const config = loadConfig({
      SWEEP_EVERY: '30s',
      DELETE_GRACE: '0',
      API_RATE_LIMIT: '600/m',
      MAX_DESTRUCTIVE_SHARE: '2.5%',
      BILLING_WEBHOOK_SECRET:
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_bmV3LXNlY3JldC12YWx1ZQ==',
      AGENT_ENGINE_URL: 'http://127.0.0.1:8787/',
      WORKER_CONCURRENCY: '0',
    });
    expect(config.sweepEveryMs).toBe(30 * SECOND);
    expect(config.workerConcurrency).toBe(0); // a receiver: runs no jobs
    expect(config.deleteGraceMs).toBe(0);
    expect(config.apiRateLimit).toEqual({ max: 600, perMs: MINUTE });
    expect(config.maxDestructiveShare).toBeCloseTo(0.025);
    expect(config.billingWebhookSecrets).toHaveLength(2);
    expect(config.agentEngineUrl).toBe('http://127.0.0.1:8787');
  });

  it.each([
    ['SWEEP_EVERY', 'soon', 'SWEEP_EVERY="soon" is invalid: expected a duration'],
    ['DELETE_GRACE', '7 days', 'DELETE_GRACE="7 days" is invalid'],
    ['PORT', '99999', 'PORT="99999" is invalid: expected a port number'],
    [
      'ORPHANS',
      'default',
      'ORPHANS="default" is invalid: expected one of report, deactivate, delete',
    ],
    ['API_RATE_LIMIT', '10', 'API_RATE_LIMIT="10" is invalid: expected a rate'],
    ['MAX_DESTRUCTIVE_SHARE', '10', 'MAX_DESTRUCTIVE_SHARE="10" is invalid'],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL="mysql://x" is invalid'],
    ['WORKSPACE_NAME_TEMPLATE', 'Team {nmae}', 'WORKSPACE_NAME_TEMPLATE="Team {nmae}" is invalid'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL="loud" is invalid'],
    [
      'WORKER_CONCURRENCY',
      '-1',
      'WORKER_CONCURRENCY="-1" is invalid: expected a whole number 0-256',
    ],
  ])('rejects %s=%s with one line that names it', (name, value, message) => {
    const run = () => loadConfig({ [name]: value });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  /**
   * Every variable, set to garbage: one line that names it, and never a secret's value. A new
   * variable without a row here fails the completeness check below.
   */
  const GARBAGE: Record<string, string[]> = {
    DATABASE_URL: ['not a url', 'http://db:5432/x', 'mysql://x'],
    CUSTOMERS_SOURCE: [
      'customers; drop table customers',
      'a.b.c',
      'org-view',
      '"unclosed',
      `x${'y'.repeat(63)}`,
    ],
    CUSTOMERS_NOTIFY_TABLES: [
      'organizations',
      'organizations(org_id',
      'organizations(org_id), ',
      'organizations(org id)',
      'organizations(org_id); drop table x',
    ],
    REDIS_URL: ['localhost:6379', 'postgres://x', ''.padEnd(3, '?')],
    QUEUE_PREFIX: ['has space', 'a/b', 'ü'],
    AGENT_ENGINE_URL: ['api.airbyte.ai', 'ftp://x', 'https://'],
    AGENT_ENGINE_CLIENT_ID: ['has space', 'line\nbreak', 'tab\tx'],
    AGENT_ENGINE_CLIENT_SECRET: ['s3cr3t with space', 'line\nbreak'],
    AGENT_ENGINE_ORGANIZATION_ID: ['org id', 'x\ny'],
    BILLING_WEBHOOK_SECRET: ['hunter2', 'whsec_!', 'whsec_short', 'whsec_$$$$$$$$$$'],
    STRIPE_WEBHOOK_SECRET: ['whsec_abc def', 'x\ny'],
    PADDLE_WEBHOOK_SECRET: ['pdl ntfset', 'x\ny'],
    CHARGEBEE_WEBHOOK_USERNAME: ['user:name', 'only-the-username'],
    CHARGEBEE_WEBHOOK_PASSWORD: ['only-the-password'],
    LAGO_WEBHOOK_SECRET: ['two words'],
    LAGO_WEBHOOK_PUBLIC_KEY: [
      'not a key',
      '-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----',
    ],
    ORB_WEBHOOK_SECRET: ['two words'],
    POLAR_WEBHOOK_SECRET: ['two words'],
    BILLING_CUSTOMER_ID_KEY: ['customer id', 'x\ny'],
    PORT: ['http', '-1', '65536', '80.5', '1e3'],
    HOST: ['not a host!', 'a b', '$(reboot)'],
    SWEEP_EVERY: ['soon', '0', '500ms', '15', '-1m', '1w'],
    WORKSPACE_NAME_TEMPLATE: ['no placeholder', 'Team {nmae}', '{name} {other}'],
    DELETE_GRACE: ['7 days', 'never', '-1d', 'd'],
    MAX_DESTRUCTIVE_PER_SWEEP: ['-1', 'ten', '1.5', '99999999999'],
    MAX_DESTRUCTIVE_SHARE: ['10', '0%', '101%', '-5%', 'half'],
    ORPHANS: ['default', 'DELETE!', 'keep'],
    API_RATE_LIMIT: ['10', '0/s', '10/h', 'fast', '-1/s'],
    LOG_LEVEL: ['loud', 'INFO ', 'verbose'],
    SYNC_ATTEMPTS: ['0', '101', 'many', '-2'],
    SYNC_BACKOFF: ['0', 'fast', '1'],
    WORKER_CONCURRENCY: ['-1', '257', 'all'],
    TOKEN_REFRESH_SKEW: ['soon', '-1s'],
    REQUEST_TIMEOUT: ['50ms', '0', 'forever'],
    MAX_RETRY_AFTER: ['0', '500ms', 'forever', '5 minutes'],
    RETENTION: ['forever', '0', '30m', '90'],
    LOCK_DURATION: ['0', '100ms', 'long'],
    SHUTDOWN_TIMEOUT: ['later', '-1s'],
    DASHBOARD_TOKEN: ['two words', 'x\ny', 'short', '15-chars-token!'],
    TRUST_PROXY: ['proxy.internal', '10.0.0.0/33', '10.0.0.1,', '::1/129', '10.0.0.1/8/8', 'all'],
    DEFAULT_REGION: ['mars', 'EU-west', '645a183f-b12b-4c6e-8ad3', 'us eu'],
    OTEL_EXPORTER_OTLP_ENDPOINT: ['collector:4318', 'grpc://c:4317'],
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ['/v1/traces'],
    OTEL_SDK_DISABLED: ['yes'],
  };

  it('has a garbage row for every variable it reads', async () => {
    const names = VARIABLES.map((v) => v.name);
    expect(names.length).toBeGreaterThan(25);
    expect([...names].sort()).toEqual(Object.keys(GARBAGE).sort());
    // And config.ts reads no variable outside that list (servicesSettings' are checked below).
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('../../src/config.ts', import.meta.url), 'utf8');
    const read = new Set(
      [...source.matchAll(/\b(?:read|optional|optionalWord)\(\s*env,\s*'([A-Z_]+)'/g)].map(
        (m) => m[1],
      ),
    );
    const services = ['EMBEDDED', 'EMBEDDED_DIR', 'EMBEDDED_TEST_DEFAULTS_CLOSED', 'NODE_ENV'];
    expect([...read].filter((name) => !names.includes(name!) && !services.includes(name!))).toEqual(
      [],
    );
  });

  it.each(
    Object.entries(GARBAGE).flatMap(([name, values]) => values.map((value) => [name, value])),
  )('stops on %s=%j with one line that names it', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    // One line, starting with the variable (or the pair it belongs to), saying what was expected.
    expect(message).toContain(name);
    expect(message).toMatch(/^[A-Z_]+[= ]/);
    expect(message).toMatch(/(is|are) (invalid|required): expected \S/);
    expect(message).not.toContain('\n');
    if (/SECRET|TOKEN|PASSWORD|PUBLIC_KEY/.test(name)) expect(message).not.toContain(value);
  });

  it('reads the source and its notify tables with Postgres identifier rules', () => {
    expect(loadConfig({}).customersSource).toEqual({ schema: null, name: 'customers' });
    expect(loadConfig({}).customersNotifyTables).toEqual([]);
    const config = loadConfig({
      CUSTOMERS_SOURCE: 'App.Organizations_Source',
      CUSTOMERS_NOTIFY_TABLES: 'app.organizations(org_id), "Billing"."Seats" ( "Org""Id" )',
    });
    expect(config.customersSource).toEqual({ schema: 'app', name: 'organizations_source' });
    expect(config.customersNotifyTables).toEqual([
      { table: { schema: 'app', name: 'organizations' }, idColumn: 'org_id' },
      { table: { schema: 'Billing', name: 'Seats' }, idColumn: 'Org"Id' },
    ]);
  });

  it('takes TRUST_PROXY as addresses, CIDRs and named ranges; none when unset', () => {
    expect(loadConfig({}).trustProxy).toEqual([]);
    expect(
      loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,fd00::/8 ,::1, loopback' }).trustProxy,
    ).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1', 'loopback']);
  });

  it('takes a DASHBOARD_TOKEN of 16 characters or more, and stops on fewer without echoing it', () => {
    expect(loadConfig({ DASHBOARD_TOKEN: '16-chars-token!!' }).dashboardToken).toBe(
      '16-chars-token!!',
    );
    expect(() => loadConfig({ DASHBOARD_TOKEN: 'hunter2' })).toThrow(
      /^DASHBOARD_TOKEN=<hidden> is invalid: expected .*at least 16 characters/,
    );
  });

  it('reads DEFAULT_REGION as a region id: us (the default), eu, or a uuid', () => {
    expect(loadConfig({}).defaultRegion).toBe('645a183f-b12b-4c6e-8ad3-99e165603450');
    expect(loadConfig({ DEFAULT_REGION: 'eu' }).defaultRegion).toBe(
      'b9e48d61-f082-4a14-a8d0-799a907938cb',
    );
    expect(loadConfig({ DEFAULT_REGION: ' EU ' }).defaultRegion).toBe(
      'b9e48d61-f082-4a14-a8d0-799a907938cb',
    );
    expect(
      loadConfig({ DEFAULT_REGION: '0F0E0D0C-0000-4000-8000-000000000001' }).defaultRegion,
    ).toBe('0f0e0d0c-0000-4000-8000-000000000001');
    expect(() => loadConfig({ DEFAULT_REGION: 'mars' })).toThrow(
      'DEFAULT_REGION="mars" is invalid: expected us, eu or a region id (uuid)',
    );
  });

  it('accepts the new durations', () => {
    const config = loadConfig({ MAX_RETRY_AFTER: '90s', RETENTION: '30d' });
    expect(config.maxRetryAfterMs).toBe(90 * SECOND);
    expect(config.retentionMs).toBe(30 * DAY);
    expect(loadConfig({})).toMatchObject({ maxRetryAfterMs: 5 * MINUTE, retentionMs: 90 * DAY });
  });

  it('never echoes a secret in its error', () => {
    expect(() => loadConfig({ BILLING_WEBHOOK_SECRET: 'hunter2-not-a-whsec' })).toThrow(
      /BILLING_WEBHOOK_SECRET is invalid: expected whsec_<base64>/,
    );
    try {
      loadConfig({ BILLING_WEBHOOK_SECRET: 'hunter2-not-a-whsec' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('requires credentials only from what calls the API', () => {
    expect(() => requireCredentials(loadConfig({}))).toThrow('AGENT_ENGINE_CLIENT_ID is required');
    expect(
      requireCredentials(
        loadConfig({ AGENT_ENGINE_CLIENT_ID: 'a', AGENT_ENGINE_CLIENT_SECRET: 'b' }),
      ),
    ).toEqual({ clientId: 'a', clientSecret: 'b' });
  });

  describe("the billing systems' variables", () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();

    it('reads each, all unset by default; every secret is scrubbed from logs', () => {
      expect(loadConfig({})).toMatchObject({
        paddleWebhookSecret: undefined,
        chargebeeWebhookAuth: undefined,
        lagoWebhookSecret: undefined,
        lagoWebhookPublicKey: undefined,
        orbWebhookSecret: undefined,
        polarWebhookSecret: undefined,
        billingCustomerIdKey: undefined,
      });
      const config = loadConfig({
        PADDLE_WEBHOOK_SECRET: 'pdl_1',
        CHARGEBEE_WEBHOOK_USERNAME: 'cb',
        CHARGEBEE_WEBHOOK_PASSWORD: 'cb:pw',
        LAGO_WEBHOOK_SECRET: 'lago_1',
        LAGO_WEBHOOK_PUBLIC_KEY: Buffer.from(pem).toString('base64'),
        ORB_WEBHOOK_SECRET: 'orb_1',
        POLAR_WEBHOOK_SECRET: 'polar_1',
        BILLING_CUSTOMER_ID_KEY: 'account_id',
      });
      expect(config.chargebeeWebhookAuth).toEqual({ username: 'cb', password: 'cb:pw' });
      // Lago's API gives the key as base64 of the PEM; it is kept as the PEM.
      expect(config.lagoWebhookPublicKey).toBe(pem.trim());
      expect(loadConfig({ LAGO_WEBHOOK_PUBLIC_KEY: pem }).lagoWebhookPublicKey).toBe(pem.trim());
      expect(config.billingCustomerIdKey).toBe('account_id');
      expect(secretsOf(config)).toEqual(
        expect.arrayContaining(['pdl_1', 'cb:pw', 'lago_1', 'orb_1', 'polar_1']),
      );
    });

    it.each([
      [{ CHARGEBEE_WEBHOOK_USERNAME: 'cb' }, 'CHARGEBEE_WEBHOOK_USERNAME and'],
      [{ CHARGEBEE_WEBHOOK_PASSWORD: 'hunter2' }, 'CHARGEBEE_WEBHOOK_USERNAME and'],
      [{ LAGO_WEBHOOK_PUBLIC_KEY: 'hunter2' }, 'LAGO_WEBHOOK_PUBLIC_KEY is invalid'],
    ])('rejects %j with one line that names it and echoes nothing', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
      try {
        loadConfig(env);
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2');
        expect((error as Error).message).not.toContain('\n');
      }
    });
  });
});

describe('servicesSettings', () => {
  it('says what was set, and where the data folder is', () => {
    expect(servicesSettings({}, '/home/me/app')).toEqual({
      databaseUrl: undefined,
      redisUrl: undefined,
      embedded: undefined,
      dir: '/home/me/app/.customer-sync',
      defaultsClosed: false,
    });
    expect(
      servicesSettings(
        {
          DATABASE_URL: 'postgres://db/x',
          REDIS_URL: 'redis://r',
          EMBEDDED: '1',
          EMBEDDED_DIR: 'state',
          EMBEDDED_TEST_DEFAULTS_CLOSED: '1',
        },
        '/home/me/app',
      ),
    ).toEqual({
      databaseUrl: 'postgres://db/x',
      redisUrl: 'redis://r',
      embedded: true,
      dir: '/home/me/app/state',
      defaultsClosed: true,
    });
    expect(servicesSettings({ EMBEDDED: '0', EMBEDDED_DIR: '/var/x' }).dir).toBe('/var/x');
    expect(servicesSettings({ EMBEDDED: 'false' }).embedded).toBe(false);
  });

  it.each(['maybe', '2', 'on please'])('stops on EMBEDDED=%j with one line that names it', (v) => {
    expect(() => servicesSettings({ EMBEDDED: v })).toThrow(
      new ConfigError(`EMBEDDED="${v}" is invalid: expected 1 or 0`),
    );
  });

  it('never starts embedded servers silently in production', () => {
    expect(() => servicesSettings({ EMBEDDED: '1', NODE_ENV: 'production' })).toThrow(
      /^EMBEDDED=1 is refused with NODE_ENV=production/,
    );
    expect(servicesSettings({ NODE_ENV: 'production' }).embedded).toBeUndefined();
  });
});

describe('the variables loadConfig walks', () => {
  /**
   * The rows of docs/configuration.md's "The daemon and the CLI" table: each backquoted name in
   * the first cell, with the backquoted default in the second at the same position (none for `—`
   * or a default in words; a parenthesis is a remark, not a value).
   */
  async function documented(): Promise<Map<string, string | undefined>> {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const section = doc.split('\n## The daemon and the CLI\n')[1]?.split('\n## ')[0] ?? '';
    const rows = section.split('\n').filter((line) => /^\| `/.test(line));
    const quoted = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const table = new Map<string, string | undefined>();
    for (const row of rows) {
      const [names = '', defaults = ''] = row
        .split('|')
        .slice(1)
        .map((cell) => cell.trim());
      const values = quoted(defaults.replace(/\([^)]*\)/g, ''));
      quoted(names).forEach((name, i) => table.set(name, values[i]));
    }
    return table;
  }

  it('are the docs table, each with the same default', async () => {
    const table = await documented();
    expect(table.size).toBeGreaterThan(25);
    expect([...table.keys()].sort()).toEqual(VARIABLES.map((v) => v.name).sort());
    for (const v of VARIABLES) expect([v.name, table.get(v.name)]).toEqual([v.name, v.default]);
  });

  it('give the defaults loadConfig takes', () => {
    for (const v of VARIABLES.filter((v) => v.default !== undefined)) {
      expect([v.name, loadConfig({ [v.name]: v.default })]).toEqual([v.name, loadConfig({})]);
    }
  });

  it('mark as secret exactly the values the logger scrubs, each hidden in errors', () => {
    const secret = VARIABLES.filter((v) => v.secret).map((v) => v.name);
    // Every name that looks like a secret's is one, but TOKEN_REFRESH_SKEW (a duration).
    expect(secret.sort()).toEqual(
      VARIABLES.map((v) => v.name)
        .filter((name) => /SECRET|TOKEN|PASSWORD/.test(name) && name !== 'TOKEN_REFRESH_SKEW')
        .sort(),
    );
    const env = {
      AGENT_ENGINE_CLIENT_SECRET: 'client-secret-1',
      BILLING_WEBHOOK_SECRET: 'whsec_c2VjcmV0LWJpbGxpbmc= whsec_c2VjcmV0LWJpbGxpbmcy',
      STRIPE_WEBHOOK_SECRET: 'stripe-secret-1',
      PADDLE_WEBHOOK_SECRET: 'paddle-secret-1',
      CHARGEBEE_WEBHOOK_USERNAME: 'chargebee-user',
      CHARGEBEE_WEBHOOK_PASSWORD: 'chargebee-password',
      LAGO_WEBHOOK_SECRET: 'lago-secret-1',
      ORB_WEBHOOK_SECRET: 'orb-secret-1',
      POLAR_WEBHOOK_SECRET: 'polar-secret-1',
      DASHBOARD_TOKEN: 'dashboard-token-0123456789',
    };
    const values = secret.flatMap((name) => (env[name as keyof typeof env] ?? '').split(' '));
    expect(secretsOf(loadConfig(env)).sort()).toEqual(values.sort());
  });
});
