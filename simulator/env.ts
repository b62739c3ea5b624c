/**
 * The simulator's settings from environment variables (`npm run sim`, docker-compose). Given the
 * environment rather than reading it, so it can be tested; only `main.ts` passes `process.env`.
 */
import { parseDuration } from '../src/lib/duration.js';
import type { SimulatorOptions } from './index.js';

type Env = Record<string, string | undefined>;

/** The simulator's options from the environment; throws one line naming a bad variable. */
export function simulatorOptionsFromEnv(env: Env): SimulatorOptions {
  return {
    host: nonEmpty(env, 'SIM_HOST') ?? '127.0.0.1',
    port: port(env.SIM_PORT),
    clientId: nonEmpty(env, 'SIM_CLIENT_ID') ?? 'demo-client-id',
    clientSecret: nonEmpty(env, 'SIM_CLIENT_SECRET') ?? 'demo-client-secret',
    appTokenTtlMs: duration(env, 'SIM_APP_TOKEN_TTL', '15m'),
    scopedTokenTtlMs: duration(env, 'SIM_SCOPED_TOKEN_TTL', '20m'),
  };
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function port(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 8787;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || value > 65535) {
    throw new Error(`SIM_PORT: expected a port number 0..65535, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function duration(env: Env, name: string, fallback: string): number {
  const raw = nonEmpty(env, name) ?? fallback;
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0) {
    throw new Error(`${name}: expected a duration like 30s, 15m or 1h, got ${JSON.stringify(raw)}`);
  }
  return ms;
}
