/**
 * The demo's Postgres and Redis: DATABASE_URL and REDIS_URL when set (used as they are, as
 * before); else the default addresses when something answers there; else servers of its own in
 * the data folder (`.customer-sync/`, or EMBEDDED_DIR), unless EMBEDDED=0.
 */
import { servicesSettings } from '../src/config.js';
import { provideServices, type Services } from '../src/embedded/index.js';
import type { DemoSettings } from './settings.js';

type Env = Readonly<Record<string, string | undefined>>;

export async function demoServices(
  env: Env,
  settings: DemoSettings,
  say: (line: string) => void,
): Promise<Services & { readonly dir: string }> {
  const wanted = servicesSettings(env);
  const services = await provideServices({
    databaseUrl: wanted.databaseUrl ? settings.databaseUrl : undefined,
    redisUrl: wanted.redisUrl ? settings.redisUrl : undefined,
    defaultDatabaseUrl: settings.databaseUrl,
    defaultRedisUrl: settings.redisUrl,
    defaultsClosed: wanted.defaultsClosed,
    embedded: wanted.embedded ?? true,
    dir: wanted.dir,
    say,
  });
  return Object.assign(services, { dir: wanted.dir });
}
