/** Event mapping: the recorded payloads in, customer changes out, through the handler maps. */
import { describe, expect, it } from 'vitest';

import { parseGenericEvent } from '../../src/webhooks/genericEvents.js';
import { parseStripeEvent } from '../../src/webhooks/stripe.js';
import { fixture, type Payload } from '../support/webhookFixtures.js';

describe('billing events', () => {
  const parse = (name: string, edit: (body: Payload) => void = () => {}) => {
    const body = fixture(`billing/${name}`);
    edit(body);
    return parseGenericEvent(body, 'msg_1');
  };

  it.each([
    ['customer.created', { name: 'Acme Corp', status: 'active' }],
    ['customer.updated', { name: 'Acme Corp', status: 'active' }],
    ['customer.deactivated', { status: 'inactive' }],
    ['customer.reactivated', { status: 'active' }],
    ['customer.deleted', { status: 'deleted' }],
  ])('%s → %o', (type, change) => {
    const parsed = parse(type);
    expect(parsed).toEqual({
      ok: true,
      event: {
        source: 'billing',
        eventId: 'msg_1',
        type,
        occurredAt: new Date('2026-11-28T12:00:00.000Z'),
        customerId: 'cus_123',
        change,
      },
    });
  });

  it('an update sets only the fields it gives', () => {
    const parsed = parse('customer.updated', (b) => (b.data = { id: 'cus_9', status: 'inactive' }));
    expect(parsed.ok && parsed.event.change).toEqual({ status: 'inactive' });
  });

  it('customer.created needs a name', () => {
    const parsed = parse('customer.created', (b) => delete b.data.name);
    expect(parsed).toEqual({ ok: false, error: expect.stringMatching(/^data\.name: /) });
  });

  it.each([
    ['no data.id', (b: Payload) => delete b.data.id],
    ['a bad timestamp', (b: Payload) => (b.timestamp = 'yesterday')],
    ['an unknown status', (b: Payload) => (b.data.status = 'paused')],
    ['a blank name', (b: Payload) => (b.data.name = '   ')],
    ['a NUL in the name', (b: Payload) => (b.data.name = 'a\u0000b')],
    ['a name too long to index', (b: Payload) => (b.data.name = 'x'.repeat(501))],
    ['no type', (b: Payload) => delete b.type],
  ])('refuses %s', (_what, edit) => {
    expect(parse('customer.updated', edit).ok).toBe(false);
  });

  it('an unknown type is an event with no change', () => {
    const parsed = parse('customer.updated', (b) => (b.type = 'invoice.paid'));
    expect(parsed.ok && parsed.event).toMatchObject({ customerId: 'cus_123', change: null });
  });

  it('a type named like an Object property is not a handler', () => {
    const parsed = parse('customer.updated', (b) => (b.type = 'constructor'));
    expect(parsed.ok && parsed.event.change).toBeNull();
  });
});

describe('Stripe events', () => {
  const parse = (name: string, edit: (body: Payload) => void = () => {}) => {
    const body = fixture(`stripe/${name}`);
    edit(body);
    return parseStripeEvent(body);
  };

  it.each([
    ['customer.created', { name: 'Jenny Rosen' }],
    ['customer.updated', { name: 'Jenny Rosen-Smith' }],
    ['customer.deleted', { status: 'deleted' }],
    ['customer.subscription.created', { status: 'active' }],
    ['customer.subscription.resumed', { status: 'active' }],
    ['customer.subscription.paused', { status: 'inactive' }],
    ['customer.subscription.deleted', { status: 'inactive' }],
  ])('%s → %o for the Stripe customer id', (type, change) => {
    const body = fixture(`stripe/${type}`);
    const parsed = parse(type);
    expect(parsed).toEqual({
      ok: true,
      event: {
        source: 'stripe',
        eventId: body.id,
        type,
        occurredAt: new Date(body.created * 1000),
        customerId: 'cus_NffrFeUfNV2Hib',
        change,
      },
    });
  });

  it('a subscription with its customer expanded', () => {
    const parsed = parse('customer.subscription.paused', (b) => {
      b.data.object.customer = { id: 'cus_X', object: 'customer' };
    });
    expect(parsed.ok && parsed.event.customerId).toBe('cus_X');
  });

  it('a customer without a name sets nothing', () => {
    const parsed = parse('customer.created', (b) => (b.data.object.name = null));
    expect(parsed.ok && parsed.event.change).toEqual({});
  });

  it('an unknown type is an event with no change', () => {
    expect(parse('invoice.paid')).toMatchObject({
      ok: true,
      event: { change: null, customerId: null },
    });
  });

  it('refuses an event without id, created or object', () => {
    expect(parse('customer.created', (b) => delete b.id).ok).toBe(false);
    expect(parse('customer.created', (b) => (b.created = 'now')).ok).toBe(false);
    expect(parse('customer.subscription.created', (b) => delete b.data.object.customer).ok).toBe(
      false,
    );
  });
});
