/**
 * The billing webhook over real HTTP against a real database: verification, dedupe, ordering
 * (older changes nothing; on equal timestamps the later delivery wins), refusals that write
 * nothing, and the sync queued after commit.
 */
import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { fixture } from '../support/webhookFixtures.js';
import { newBillingSecret, signStandardWebhooks } from '../support/webhookSigners.js';
import { webhookSuite } from '../support/webhookSuite.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const T = NOW / 1000;
const OLD_SECRET = newBillingSecret();
const NEW_SECRET = newBillingSecret();

const { database, server, clock, startServer } = webhookSuite({
  now: NOW,
  secrets: { billing: [NEW_SECRET, OLD_SECRET] },
});

interface Send {
  id?: string;
  secret?: string;
  timestamp?: number;
  headers?: Record<string, string>;
}

const send = (body: unknown, options: Send = {}) => {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = signStandardWebhooks(options.secret ?? NEW_SECRET, raw, {
    timestamp: options.timestamp ?? T,
    ...(options.id ? { id: options.id } : {}),
  });
  return server.post('/webhooks/billing', raw, { ...headers, ...options.headers });
};

const event = (type: string, data: Record<string, unknown>, at = '2026-11-28T12:00:00.000Z') => ({
  ...fixture(`billing/${type}`),
  timestamp: at,
  data,
});

const customers = async () =>
  (await database.pool.query('select id, name, status from customers order by id')).rows;
const written = async () => {
  const { rows } = await database.pool.query<{ c: number; e: number; m: number }>(
    `select (select count(*)::int from customers) as c, (select count(*)::int from webhook_events) as e,
            (select count(*)::int from customer_event_marks) as m`,
  );
  return rows[0];
};
const NOTHING = { c: 0, e: 0, m: 0 };

describe('POST /webhooks/billing', () => {
  it('a signed customer.created writes the row, records the event and queues the sync', async () => {
    const answer = await send(fixture('billing/customer.created'), { id: 'msg_created_1' });
    expect(answer).toMatchObject({ status: 200, json: { status: 'applied' } });
    expect(await customers()).toEqual([{ id: 'cus_123', name: 'Acme Corp', status: 'active' }]);
    const { rows } = await database.pool.query(
      'select updated_at, created_at from customers where id = $1',
      ['cus_123'],
    );
    expect(rows[0].updated_at.getTime()).toBe(NOW);
    const events = await database.pool.query(
      'select source, event_id, type, customer_id, result from webhook_events',
    );
    expect(events.rows).toEqual([
      {
        source: 'billing',
        event_id: 'msg_created_1',
        type: 'customer.created',
        customer_id: 'cus_123',
        result: 'applied',
      },
    ]);
    const marks = await database.pool.query(
      'select customer_id, last_event_at, last_event_id from customer_event_marks',
    );
    expect(marks.rows).toEqual([
      {
        customer_id: 'cus_123',
        last_event_at: new Date('2026-11-28T12:00:00.000Z'),
        last_event_id: 'msg_created_1',
      },
    ]);
    expect(server.queue.calls).toEqual([{ ids: ['cus_123'], trigger: 'webhook' }]);
  });

  it('maps each event type onto the row', async () => {
    const steps: [string, Record<string, unknown>, string, string][] = [
      ['customer.created', { id: 'cus_1', name: 'One' }, 'One', 'active'],
      ['customer.deactivated', { id: 'cus_1' }, 'One', 'inactive'],
      ['customer.reactivated', { id: 'cus_1', name: 'One Ltd' }, 'One Ltd', 'active'],
      ['customer.updated', { id: 'cus_1', status: 'inactive' }, 'One Ltd', 'inactive'],
      ['customer.deleted', { id: 'cus_1' }, 'One Ltd', 'deleted'],
    ];
    for (const [i, [type, data, name, status]] of steps.entries()) {
      const at = new Date(Date.UTC(2026, 10, 28, 12, 0, i)).toISOString();
      expect((await send(event(type, data, at))).json).toEqual({ status: 'applied' });
      expect(await customers()).toEqual([{ id: 'cus_1', name, status }]);
    }
    expect(server.queue.ids).toEqual(Array(steps.length).fill('cus_1'));
  });

  it('accepts the older secret during rotation', async () => {
    const answer = await send(fixture('billing/customer.created'), { secret: OLD_SECRET });
    expect(answer.json).toEqual({ status: 'applied' });
  });

  describe('refuses with 401 and writes nothing', () => {
    const body = JSON.stringify(fixture('billing/customer.created'));
    const signed = () => signStandardWebhooks(NEW_SECRET, body, { timestamp: T });
    const cases: [string, () => Promise<{ status: number; json: unknown }>][] = [
      [
        'a flipped byte',
        () => server.post('/webhooks/billing', body.replace('Acme', 'Acmf'), signed()),
      ],
      ['a stale timestamp', () => send(body, { timestamp: T - 301 })],
      ['a future timestamp', () => send(body, { timestamp: T + 301 })],
      ['a wrong secret', () => send(body, { secret: newBillingSecret() })],
      [
        'a signature for another id',
        () => server.post('/webhooks/billing', body, { ...signed(), 'webhook-id': 'msg_other' }),
      ],
      ...(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const).map(
        (name): [string, () => Promise<{ status: number; json: unknown }>] => [
          `no ${name}`,
          () => {
            const headers: Record<string, string> = signed();
            delete headers[name];
            return server.post('/webhooks/billing', body, headers);
          },
        ],
      ),
    ];
    it.each(cases)('%s', async (_what, call) => {
      const answer = await call();
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ error: expect.any(String) });
      expect(await written()).toEqual(NOTHING);
      expect(server.queue.calls).toEqual([]);
    });
  });

  it('a replay of one webhook-id is a duplicate and changes nothing, whatever its body', async () => {
    await send(event('customer.created', { id: 'cus_1', name: 'First' }), { id: 'msg_1' });
    const before = await database.pool.query('select * from customers');
    clock.advance(60_000);
    const replay = await send(
      event('customer.updated', { id: 'cus_1', name: 'Second' }, '2026-11-28T12:01:00.000Z'),
      {
        id: 'msg_1',
      },
    );
    expect(replay).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    expect((await database.pool.query('select * from customers')).rows).toEqual(before.rows);
    expect(await written()).toEqual({ c: 1, e: 1, m: 1 });
    expect(server.queue.calls).toHaveLength(1);
  });

  it('concurrent deliveries of one event: exactly one is applied', async () => {
    const body = fixture('billing/customer.created');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => send(body, { id: 'msg_race' })),
    );
    const statuses = answers.map((a) => (a.json as { status: string }).status).sort();
    expect(statuses).toEqual(['applied', ...Array(9).fill('duplicate')]);
    expect(server.queue.calls).toHaveLength(1);
  });

  it('concurrent events for one customer, in any order: the newest stands', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `Name ${String(i).padStart(2, '0')}`);
    const shuffled = names
      .map((name, i) => ({ name, i }))
      .sort((a, b) => ((a.i * 7) % 12) - ((b.i * 7) % 12));
    const answers = await Promise.all(
      shuffled.map(({ name, i }) =>
        send(
          event(
            'customer.updated',
            { id: 'cus_1', name },
            new Date(Date.UTC(2026, 10, 28, 12, 0, i)).toISOString(),
          ),
        ),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'Name 11', status: 'active' }]);
    const { rows } = await database.pool.query<{ result: string; n: number }>(
      'select result, count(*)::int as n from webhook_events group by result',
    );
    expect(rows.reduce((sum, r) => sum + r.n, 0)).toBe(12);
  });

  it('takes a signed body whatever its content type', async () => {
    const answer = await send(fixture('billing/customer.created'), {
      headers: { 'content-type': 'text/plain' },
    });
    expect(answer.json).toEqual({ status: 'applied' });
  });

  it('an older event delivered after a newer one changes nothing (stale, recorded)', async () => {
    await send(
      event('customer.created', { id: 'cus_1', name: 'Newer' }, '2026-11-28T12:00:02.000Z'),
      { id: 'msg_new' },
    );
    const older = await send(
      event(
        'customer.updated',
        { id: 'cus_1', name: 'Older', status: 'inactive' },
        '2026-11-28T12:00:01.999Z',
      ),
      {
        id: 'msg_old',
      },
    );
    expect(older.json).toEqual({ status: 'stale' });
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'Newer', status: 'active' }]);
    const { rows } = await database.pool.query('select last_event_id from customer_event_marks');
    expect(rows).toEqual([{ last_event_id: 'msg_new' }]);
    const results = await database.pool.query(
      'select event_id, result from webhook_events order by event_id',
    );
    expect(results.rows).toEqual([
      { event_id: 'msg_new', result: 'applied' },
      { event_id: 'msg_old', result: 'stale' },
    ]);
    expect(server.queue.ids).toEqual(['cus_1']);
  });

  it('on equal timestamps the later delivery wins', async () => {
    const at = '2026-11-28T12:00:00.000Z';
    await send(event('customer.created', { id: 'cus_1', name: 'A' }, at), { id: 'msg_a' });
    const b = await send(event('customer.updated', { id: 'cus_1', name: 'B' }, at), {
      id: 'msg_b',
    });
    expect(b.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'B', status: 'active' }]);
    // And the other way round: whichever comes second wins, not whichever id sorts last.
    const a2 = await send(event('customer.updated', { id: 'cus_1', name: 'A' }, at), {
      id: 'msg_a2',
    });
    expect(a2.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'A', status: 'active' }]);
  });

  it('an update for an unknown customer without a name is ignored and does not make the create stale', async () => {
    const update = await send(
      event('customer.deactivated', { id: 'cus_1' }, '2026-11-28T12:00:05.000Z'),
      { id: 'msg_u' },
    );
    expect(update.json).toEqual({ status: 'ignored' });
    expect(await written()).toEqual({ c: 0, e: 1, m: 0 });
    const create = await send(
      event('customer.created', { id: 'cus_1', name: 'Late' }, '2026-11-28T12:00:01.000Z'),
    );
    expect(create.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'Late', status: 'active' }]);
    expect(server.queue.ids).toEqual(['cus_1']);
  });

  it('an update with a name creates a customer not yet there', async () => {
    const answer = await send(
      event('customer.updated', { id: 'cus_2', name: 'Two', status: 'inactive' }),
    );
    expect(answer.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([{ id: 'cus_2', name: 'Two', status: 'inactive' }]);
  });

  it('an unknown type is answered ignored and recorded, with no sync', async () => {
    const invoice = {
      type: 'invoice.paid',
      timestamp: '2026-11-28T12:00:00Z',
      data: { id: 'cus_3' },
    };
    const answer = await send(invoice, { id: 'msg_inv' });
    expect(answer.json).toEqual({ status: 'ignored' });
    const { rows } = await database.pool.query(
      'select event_id, type, customer_id, result from webhook_events',
    );
    expect(rows).toEqual([
      { event_id: 'msg_inv', type: 'invoice.paid', customer_id: 'cus_3', result: 'ignored' },
    ]);
    expect(server.queue.calls).toEqual([]);
  });

  describe('refuses bad input and writes nothing', () => {
    it.each([
      ['400 for a body that is not JSON', '{"type": "customer.created",', 400],
      ['400 for an empty body', '', 400],
      ['422 for JSON of the wrong shape', '[1, 2, 3]', 422],
      [
        '422 for customer.created without a name',
        JSON.stringify(event('customer.created', { id: 'cus_1' })),
        422,
      ],
      [
        '422 for an unknown status',
        JSON.stringify(event('customer.updated', { id: 'cus_1', status: 'gone' })),
        422,
      ],
    ])('%s', async (_what, body, status) => {
      const answer = await send(body);
      expect(answer.status).toBe(status);
      expect(answer.json).toEqual({ error: expect.any(String) });
      expect(await written()).toEqual(NOTHING);
      expect(server.queue.calls).toEqual([]);
    });

    it('413 for a body over 256 KiB, signed or not', async () => {
      const big = JSON.stringify({
        ...event('customer.created', { id: 'cus_1', name: 'Big' }),
        pad: 'x'.repeat(256 * 1024),
      });
      const answer = await send(big);
      expect(answer).toMatchObject({ status: 413, json: { error: expect.any(String) } });
      const unsigned = await server.post('/webhooks/billing', big, {
        'content-type': 'application/json',
      });
      expect(unsigned.status).toBe(413);
      expect(await written()).toEqual(NOTHING);
    });

    it('takes a body of exactly 256 KiB', async () => {
      const body = event('customer.created', { id: 'cus_1', name: 'Edge' });
      const bare = JSON.stringify({ ...body, pad: '' });
      const exact = JSON.stringify({ ...body, pad: 'x'.repeat(256 * 1024 - bare.length) });
      expect(Buffer.byteLength(exact)).toBe(256 * 1024);
      expect((await send(exact)).json).toEqual({ status: 'applied' });
    });
  });

  it('still answers 200 when the sync cannot be queued, and says so in the log', async () => {
    server.queue.failing = true;
    const answer = await send(fixture('billing/customer.created'), { id: 'msg_noredis' });
    expect(answer.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([{ id: 'cus_123', name: 'Acme Corp', status: 'active' }]);
    const warning = server.logs.find(
      (l) => l.includes('msg_noredis') && l.includes('could not be queued'),
    );
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ level: 40, customerId: 'cus_123' });
  });

  it('logs one info line per outcome with event id, customer id and outcome, and never a body or signature', async () => {
    const body = JSON.stringify(fixture('billing/customer.created'));
    const headers = signStandardWebhooks(NEW_SECRET, body, { id: 'msg_logged', timestamp: T });
    await server.post('/webhooks/billing', body, headers);
    const lines = server.logs.filter((l) => l.includes('msg_logged')).map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        eventId: 'msg_logged',
        customerId: 'cus_123',
        outcome: 'applied',
      }),
    ]);
    const all = server.logs.join('');
    expect(all).not.toContain('Acme Corp');
    expect(all).not.toContain(headers['webhook-signature']?.slice(3));
    expect(all).not.toContain(NEW_SECRET.slice(6));
  });
});

describe('the Standard Webhooks example over HTTP', () => {
  it('verifies with the clock at its timestamp (then 422: it is not a billing event)', async () => {
    const vectorClock = new ManualClock(1614265330 * 1000);
    await using vector = await startServer({
      clock: vectorClock,
      secrets: { billing: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] },
    });
    const headers = {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      'content-type': 'application/json',
    };
    expect((await vector.post('/webhooks/billing', '{"test": 2432232314}', headers)).status).toBe(
      422,
    );
    expect((await vector.post('/webhooks/billing', '{"test": 2432232315}', headers)).status).toBe(
      401,
    );
    vectorClock.advance(301_000);
    expect((await vector.post('/webhooks/billing', '{"test": 2432232314}', headers)).status).toBe(
      401,
    );
  });
});
