/**
 * What the chaos run knows the `customers` table must say: every row it seeded, and every change
 * it made (signed webhooks, direct writes), in the order they took effect. Each customer is changed
 * by one writer at a time and only after its previous change was acknowledged, so the expected
 * row is exact. It also keeps, for each name, when some customer wanted it, to judge mints.
 */
import type { CustomerStatus } from '../src/core/types.js';

export interface Row {
  readonly name: string;
  readonly status: CustomerStatus;
}

/** When a name was some customer's: from when the change was sent until the next one was acked. */
interface Interval {
  readonly customerId: string;
  readonly since: number;
  until: number;
}

export class Model {
  readonly rows = new Map<string, Row>();
  /** When a customer's deletion was sent (the earliest its row could say `deleted`). */
  readonly deletedAt = new Map<string, number>();
  /** Customers a destructive change was ever asked for (inactive or deleted at some point). */
  readonly everDestructive = new Set<string>();
  readonly #names = new Map<string, Interval[]>();
  readonly #open = new Map<string, Interval>();

  /** A row that was there before the run (no history before it). */
  seed(id: string, row: Row): void {
    this.rows.set(id, row);
    if (row.status !== 'active') this.everDestructive.add(id);
    this.#want(id, row.name, -Infinity);
  }

  /**
   * A change that took effect: sent at `sentAt`, acknowledged at `ackedAt`. `undefined` fields are
   * left as they are (a new customer needs both).
   */
  apply(id: string, change: Partial<Row>, sentAt: number, ackedAt: number): void {
    const before = this.rows.get(id);
    const name = change.name ?? before?.name;
    const status = change.status ?? before?.status ?? 'active';
    if (name === undefined) throw new Error(`model: new customer ${id} without a name`);
    this.rows.set(id, { name, status });
    if (status !== 'active') this.everDestructive.add(id);
    if (status === 'deleted' && before?.status !== 'deleted') this.deletedAt.set(id, sentAt);
    if (name !== before?.name) {
      const open = this.#open.get(id);
      if (open) open.until = ackedAt;
      this.#want(id, name, sentAt);
    }
  }

  /**
   * Whether `name` was no customer's at `at`, allowing `marginMs` after a customer moved away
   * from it (a sync that read the row just before the change may still be finishing).
   */
  isStale(name: string, at: number, marginMs: number): boolean {
    const intervals = this.#names.get(name) ?? [];
    return !intervals.some((i) => i.since <= at && at <= i.until + marginMs);
  }

  /** The customer that had `name` last, if any (for reports). */
  ownerOf(name: string): string | undefined {
    return this.#names.get(name)?.at(-1)?.customerId;
  }

  #want(id: string, name: string, since: number): void {
    const interval: Interval = { customerId: id, since, until: Infinity };
    const list = this.#names.get(name);
    if (list) list.push(interval);
    else this.#names.set(name, [interval]);
    this.#open.set(id, interval);
  }
}
