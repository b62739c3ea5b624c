/** What the demo prints once it has converged: how to poke it, ready to paste. */
import type { Daemon } from '../src/daemon.js';
import { WEBHOOK_CUSTOMER } from './customers.js';
import { curlCommand, DEMO_DASHBOARD_TOKEN, shellQuote, signedWebhook } from './settings.js';

/** The lines to print; the webhook is signed now, so it is valid for 5 minutes. */
export async function instructions(daemon: Daemon, env: Record<string, string>): Promise<string[]> {
  const { url } = daemon;
  const webhook = signedWebhook(url, {
    type: 'customer.updated',
    data: { id: WEBHOOK_CUSTOMER.id, name: WEBHOOK_CUSTOMER.name, status: 'active' },
  });
  const cliEnv = [
    'DATABASE_URL',
    'REDIS_URL',
    'QUEUE_PREFIX',
    'AGENT_ENGINE_URL',
    'AGENT_ENGINE_CLIENT_ID',
    'AGENT_ENGINE_CLIENT_SECRET',
  ]
    .map((k) => `${k}=${shellQuote(env[k] ?? '')}`)
    .join(' ');
  const dashboard = dashboardLine(url);
  return [
    '',
    'customer-sync demo is running. Try, in another terminal:',
    '',
    `# rename ${WEBHOOK_CUSTOMER.id} through the billing webhook (signed now: valid for 5 minutes; press Enter here for a fresh one)`,
    curlCommand(webhook),
    '',
    '# point the CLI at the demo, then ask it things',
    `export ${cliEnv}`,
    'npm run cli -- plan',
    'npm run cli -- status',
    `npm run cli -- explain ${WEBHOOK_CUSTOMER.id}`,
    'npm run cli -- explain cus_acme_eu   # the name clash, failing visibly',
    'npm run cli -- sweep --wait',
    '',
    `metrics:   ${url}/metrics`,
    `health:    ${url}/healthz  ${url}/readyz`,
    dashboard,
    '',
    'Ctrl-C (or SIGTERM) stops the demo.',
  ];
}

/** The console's and the queue dashboard's URLs, and how to log in (the same login). */
function dashboardLine(url: string): string {
  return [
    `console:   ${url}/console (user: any name, recorded when you approve; password: ${DEMO_DASHBOARD_TOKEN})`,
    `dashboard: ${url}/admin/queues (same login)`,
  ].join('\n');
}
