/**
 * Each billing system's signed events through a running daemon, all the way to the workspace on
 * the simulator: a created customer gets an active workspace, a paused or ended subscription makes
 * it inactive.
 */
import { request } from 'undici';
import { afterEach, expect, it } from 'vitest';

import { fixture, type Payload } from '../support/webhookFixtures.js';
import { newWebhookSecrets, secretsEnv, signersFor } from '../support/webhookSecrets.js';
import { type Headers } from '../support/webhookSigners.js';
import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const SECRETS = newWebhookSecrets();
const signers = signersFor(SECRETS);
const now = () => Math.floor(Date.now() / 1000);

type Sign = (raw: string) => Headers;
const ROUTES: [route: string, sign: Sign, created: Payload, inactive: Payload, name: string][] = [
  [
    'paddle',
    (raw) => signers.paddle(raw, now()),
    fixture('paddle/customer.created'),
    fixture('paddle/subscription.paused'),
    'Sam Miller',
  ],
  [
    'chargebee',
    () => signers.chargebee(),
    fixture('chargebee/customer_created'),
    fixture('chargebee/subscription_paused'),
    'Acme Corp',
  ],
  [
    'lago',
    (raw) => signers.lagoHmac(raw),
    fixture('lago/customer.created'),
    fixture('lago/subscription.terminated'),
    'Globex',
  ],
  [
    'orb',
    (raw) => signers.orb(raw, Date.now()),
    fixture('orb/customer.created'),
    fixture('orb/subscription.ended'),
    'Initech',
  ],
  [
    'polar',
    (raw) => signers.polar(raw, { timestamp: now() }),
    fixture('polar/customer.created'),
    fixture('polar/subscription.revoked'),
    'Umbrella',
  ],
  [
    'billing',
    (raw) => signers.billing(raw, { timestamp: now(), names: 'svix' }),
    { ...fixture('billing/customer.created'), data: { id: 'cus_svix', name: 'Svix Sender Co' } },
    { ...fixture('billing/customer.deactivated'), data: { id: 'cus_svix' } },
    'Svix Sender Co',
  ],
];

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('every billing system: created → active workspace; paused or ended → inactive', async () => {
  h = await startHarness({ env: secretsEnv(SECRETS) });
  const daemon = await h.startDaemon();
  const send = async (route: string, sign: Sign, payload: Payload) => {
    const body = JSON.stringify(payload);
    const answer = await request(`${daemon.url}/webhooks/${route}`, {
      method: 'POST',
      headers: sign(body),
      body,
    });
    return { status: answer.statusCode, json: await answer.body.json() };
  };
  for (const [route, sign, created, inactive, name] of ROUTES) {
    expect(await send(route, sign, created), route).toEqual({
      status: 200,
      json: { status: 'applied' },
    });
    const ws = await waitFor(() => h!.sim.store.findByName(name), {
      timeoutMs: 5_000,
      what: `${route}'s workspace`,
    });
    expect(ws.status).toBe('active');
    expect(await send(route, sign, inactive), route).toEqual({
      status: 200,
      json: { status: 'applied' },
    });
    await waitFor(() => h!.sim.store.get(ws.id)?.status === 'inactive', {
      timeoutMs: 5_000,
      what: `${route}'s deactivation`,
    });
  }
  expect(h.sim.stats.snapshot().workspacesCreated).toBe(ROUTES.length);
});
