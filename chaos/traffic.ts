/**
 * What the outside world does to the system during the run: signed billing webhooks streaming in
 * (creates, renames, deactivations, reactivations, deletions, replays, out-of-order pairs), sent
 * like a real sender (any daemon, retried until a 2xx), and direct writes to `customers`. Each
 * customer has one writer and one change in flight at a time, so the model knows its row exactly.
 */
import type pg from 'pg';
import { request } from 'undici';

import type { CustomerStatus } from '../src/core/types.js';
import { signStandardWebhooks } from '../test/support/webhookSigners.js';
import type { Model } from './model.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const pick = <T>(items: readonly T[]): T | undefined =>
  items[Math.floor(Math.random() * items.length)];

export interface TrafficCounts {
  /** Distinct events sent. */
  events: number;
  /** Acknowledged events sent again with the same id. */
  replays: number;
  /** Deliveries answered 2xx, by the `status` the daemon answered. */
  readonly outcomes: Record<string, number>;
  /** Deliveries that failed (connection refused or reset, timeout, non-2xx) and were retried. */
  retries: number;
  /** Events never answered 2xx before the deadline (their customers are left out of checks). */
  unanswered: number;
  directWrites: number;
  directRetries: number;
}

interface SentEvent {
  readonly id: string;
  readonly body: string;
}

export interface TrafficOptions {
  readonly model: Model;
  readonly pool: pg.Pool;
  /** The daemons' URLs right now. */
  readonly urls: () => string[];
  readonly secret: string;
  /** Customers only webhooks change, and only direct writes change (both grow with creates). */
  readonly webhookIds: string[];
  readonly directIds: string[];
  /** Customers whose webhook never got a 2xx: the run leaves them out of the row checks. */
  readonly uncertain: Set<string>;
}

/** The webhook and direct-write streams; `stop` waits for the changes in flight. */
export class Traffic {
  readonly counts: TrafficCounts = {
    events: 0,
    replays: 0,
    outcomes: {},
    retries: 0,
    unanswered: 0,
    directWrites: 0,
    directRetries: 0,
  };
  readonly #o: TrafficOptions;
  readonly #busy = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #lastEvent = new Map<string, SentEvent>();
  #seq = 0;
  #lastTs = 0;
  #running = false;
  #deadline = Infinity;

  constructor(options: TrafficOptions) {
    this.#o = options;
  }

  /** Starts `webhooksPerSecond` webhook changes and `directPerSecond` direct writes a second. */
  start(webhooksPerSecond: number, directPerSecond: number): void {
    this.#running = true;
    void this.#loop(webhooksPerSecond, () => this.#webhookChange());
    void this.#loop(directPerSecond, () => this.#directChange());
  }

  /** Stops starting changes; waits (until `deadlineMs`) for the ones in flight to be answered. */
  async stop(deadlineMs: number): Promise<void> {
    this.#running = false;
    this.#deadline = Date.now() + deadlineMs;
    await Promise.all([...this.#inFlight]);
  }

  /** One UPDATE setting `ids` inactive at once: the mass change the gate must hold. */
  async massDeactivate(ids: readonly string[]): Promise<void> {
    const sentAt = Date.now();
    await this.#sql(
      `update customers set status = 'inactive', updated_at = now() where id = any($1)`,
      [ids],
    );
    const ackedAt = Date.now();
    for (const id of ids) this.#o.model.apply(id, { status: 'inactive' }, sentAt, ackedAt);
  }

  async #loop(perSecond: number, next: () => Promise<void> | undefined): Promise<void> {
    if (perSecond <= 0) return;
    const gap = 1000 / perSecond;
    while (this.#running) {
      if (this.#inFlight.size < 64) {
        const work = next();
        if (work) {
          const tracked = work.finally(() => this.#inFlight.delete(tracked));
          this.#inFlight.add(tracked);
        }
      }
      await sleep(gap);
    }
  }

  #name(base: string): string {
    return `${base.replace(/ v\d+$/, '')} v${++this.#seq}`;
  }

  /** Event timestamps strictly increase, so the order of effect is never a tie. */
  #timestamp(): string {
    this.#lastTs = Math.max(Date.now(), this.#lastTs + 1);
    return new Date(this.#lastTs).toISOString();
  }

  #claim(ids: string[]): string | undefined {
    for (let tries = 0; tries < 10; tries++) {
      const id = pick(ids);
      if (id === undefined) return undefined;
      const row = this.#o.model.rows.get(id);
      if (this.#busy.has(id) || row?.status === 'deleted' || this.#o.uncertain.has(id)) continue;
      this.#busy.add(id);
      return id;
    }
    return undefined;
  }

  #webhookChange(): Promise<void> | undefined {
    const roll = Math.random();
    if (roll < 0.12) {
      const id = `cus_w${String(++this.#seq).padStart(6, '0')}`;
      this.#busy.add(id);
      this.#o.webhookIds.push(id);
      const name = `Webhook customer ${this.#seq}`;
      return this.#event(
        id,
        'customer.created',
        { id, name, status: 'active' },
        { name, status: 'active' },
      );
    }
    const id = this.#claim(this.#o.webhookIds);
    if (!id) return undefined;
    const row = this.#o.model.rows.get(id)!;
    if (roll < 0.45) {
      const name = this.#name(row.name);
      return this.#event(id, 'customer.updated', { id, name }, { name });
    }
    if (roll < 0.7) {
      const status: CustomerStatus = row.status === 'active' ? 'inactive' : 'active';
      const type = status === 'active' ? 'customer.reactivated' : 'customer.deactivated';
      return this.#event(id, type, { id }, { status });
    }
    if (roll < 0.8) return this.#outOfOrder(id, row.name);
    if (roll < 0.92) {
      const last = this.#lastEvent.get(id);
      if (!last) return this.#release(id, Promise.resolve());
      this.counts.replays++;
      // The same webhook-id and body again: answered 2xx, changes nothing.
      return this.#release(
        id,
        this.#deliver(id, last).then(() => {}),
      );
    }
    return this.#event(id, 'customer.deleted', { id }, { status: 'deleted' });
  }

  /** An older rename delivered after a newer one: the older must change nothing. */
  #outOfOrder(id: string, current: string): Promise<void> {
    const older = this.#signed('customer.updated', { id, name: this.#name(current) });
    const newerName = this.#name(current);
    const newer = this.#signed('customer.updated', { id, name: newerName });
    const sentAt = Date.now();
    return this.#release(
      id,
      (async () => {
        if (!(await this.#deliver(id, newer))) return;
        this.#o.model.apply(id, { name: newerName }, sentAt, Date.now());
        await this.#deliver(id, older);
      })(),
    );
  }

  #event(
    id: string,
    type: string,
    data: object,
    change: Partial<{ name: string; status: CustomerStatus }>,
  ) {
    const event = this.#signed(type, data);
    const sentAt = Date.now();
    return this.#release(
      id,
      this.#deliver(id, event).then((ok) => {
        if (ok) this.#o.model.apply(id, change, sentAt, Date.now());
      }),
    );
  }

  #signed(type: string, data: object): SentEvent {
    this.counts.events++;
    const id = `msg_chaos_${++this.#seq}`;
    return { id, body: JSON.stringify({ type, timestamp: this.#timestamp(), data }) };
  }

  #release(id: string, work: Promise<void>): Promise<void> {
    return work.finally(() => this.#busy.delete(id));
  }

  /** Delivers until a 2xx (any daemon, re-signed each time like a real sender) or the deadline. */
  async #deliver(customerId: string, event: SentEvent): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const url = this.#o.urls()[attempt % Math.max(1, this.#o.urls().length)];
      const headers = signStandardWebhooks(this.#o.secret, event.body, {
        id: event.id,
        timestamp: Math.floor(Date.now() / 1000),
      });
      try {
        const res = await request(`${url}/webhooks/billing`, {
          method: 'POST',
          body: event.body,
          headers,
          headersTimeout: 2_000,
          bodyTimeout: 2_000,
        });
        const text = await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          const outcome = String((JSON.parse(text) as { status?: unknown }).status);
          this.counts.outcomes[outcome] = (this.counts.outcomes[outcome] ?? 0) + 1;
          this.#lastEvent.set(customerId, event);
          return true;
        }
      } catch {
        // refused (killed daemon), reset, or timed out (stopped daemon): try the next one
      }
      this.counts.retries++;
      if (Date.now() > this.#deadline) {
        this.counts.unanswered++;
        this.#o.uncertain.add(customerId);
        return false;
      }
      await sleep(100 + Math.random() * 200);
    }
  }

  #directChange(): Promise<void> | undefined {
    if (Math.random() < 0.1) {
      const id = `cus_d${String(++this.#seq).padStart(6, '0')}`;
      const name = `Direct customer ${this.#seq}`;
      this.#o.directIds.push(id);
      this.#busy.add(id);
      return this.#direct(
        id,
        `insert into customers (id, name, status) values ($1, $2, 'active') on conflict (id) do nothing`,
        [id, name],
        { name, status: 'active' },
      );
    }
    const id = this.#claim(this.#o.directIds);
    if (!id) return undefined;
    const row = this.#o.model.rows.get(id)!;
    const roll = Math.random();
    if (roll < 0.5) {
      const name = this.#name(row.name);
      return this.#direct(
        id,
        'update customers set name = $2, updated_at = now() where id = $1',
        [id, name],
        {
          name,
        },
      );
    }
    const status: CustomerStatus =
      roll < 0.92 ? (row.status === 'active' ? 'inactive' : 'active') : 'deleted';
    return this.#direct(
      id,
      'update customers set status = $2, updated_at = now() where id = $1',
      [id, status],
      {
        status,
      },
    );
  }

  #direct(
    id: string,
    sql: string,
    params: unknown[],
    change: Partial<{ name: string; status: CustomerStatus }>,
  ) {
    const sentAt = Date.now();
    return this.#release(
      id,
      this.#sql(sql, params).then(
        () => {
          this.counts.directWrites++;
          this.#o.model.apply(id, change, sentAt, Date.now());
        },
        // Not known to have happened (nor not to): the row checks leave this customer out.
        () => void this.#o.uncertain.add(id),
      ),
    );
  }

  /** Runs a write, retrying through a Postgres restart (every write here is idempotent). */
  async #sql(sql: string, params: unknown[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await this.#o.pool.query(sql, params);
        return;
      } catch (error) {
        this.counts.directRetries++;
        if (Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
  }
}
