import { describe, expect, it } from 'vitest';

import { generateKeyPairSync } from 'node:crypto';

import { ConfigError, loadConfig, requireCredentials, secretsOf } from '../../src/config.js';
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
