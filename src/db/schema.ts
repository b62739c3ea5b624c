/**
 * The database: `customers` is the contract's desired state; everything else is customer-sync's
 * own durable record (docs/design.md §1: Postgres is the truth, Redis holds only triggers).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

import { GATED_ACTIONS } from '../core/destructive.js';
import { HOLD_REASONS } from '../core/sourceOutage.js';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

/**
 * The desired state, exactly as docs/contract.md gives it. Other systems may write it directly.
 *
 * Beside it (SQL functions, which drizzle does not describe): the trigger `customer_sync_notify`
 * (0001) sends a changed row's id on `customer_sync_changed`, and `customer_sync_notify_column`
 * (0011) does the same on the user's CUSTOMERS_NOTIFY_TABLES. Both send through
 * `customer_sync_send` and compare through `customer_sync_differs` (0017): nothing is sent for an
 * id no NOTIFY can carry (NULL, 8,000 bytes or more, a queue over half full), nor for an UPDATE
 * that changed no column a sync reads; the user's write always succeeds.
 */
export const customers = pgTable(
  'customers',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    status: text('status', { enum: ['active', 'inactive', 'deleted'] })
      .notNull()
      .default('active'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    /**
     * Where the customer's workspace is minted: `us`, `eu` or a region id; null = DEFAULT_REGION.
     * Unchecked here (src/core/region.ts reads it; a value naming no region fails the create).
     */
    region: text('region'),
  },
  (t) => [
    check('customers_status_check', sql`${t.status} in ('active','inactive','deleted')`),
    // Finds who else wants a workspace name (the default template is the name itself). A hash
    // index: a btree entry cannot hold a name over ~2,700 bytes, a hash index holds any length.
    index('customers_name_hash_idx').using('hash', t.name),
  ],
);

/**
 * The link: customer ↔ workspace id, stored the moment the id is known. The unique workspace id is
 * the last line of defence against two customers sharing one workspace.
 */
export const customerLinks = pgTable(
  'customer_links',
  {
    // No foreign key: the customer may live in the user's own source (CUSTOMERS_SOURCE), and a
    // link whose customer left it reads as a deleted customer (grace, then the gate).
    customerId: text('customer_id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    /** The name the workspace had when last seen or set by us. */
    workspaceName: text('workspace_name').notNull(),
    /** Its last-known status: `active`, `inactive`, `missing` (gone), or null (unknown). */
    workspaceStatus: text('workspace_status'),
    linkedAt: tz('linked_at').notNull().defaultNow(),
    /** When the customer was first seen `deleted`; cleared if it comes back. */
    deletedSeenAt: tz('deleted_seen_at'),
    /** `deletedSeenAt` plus the DELETE_GRACE in force then. */
    deleteDueAt: tz('delete_due_at'),
    /** The region id the workspace was minted in by our create; null when unknown (adopted). */
    regionId: uuid('region_id'),
  },
  (t) => [uniqueIndex('customer_links_workspace_id_key').on(t.workspaceId)],
);

/** One row per sweep, with its counts and timings. */
export const sweeps = pgTable(
  'sweeps',
  {
    id: text('id').primaryKey(),
    trigger: text('trigger').notNull(),
    startedAt: tz('started_at').notNull(),
    listedAt: tz('listed_at'),
    finishedAt: tz('finished_at'),
    /** running, converging, done, held, incomplete, failed */
    outcome: text('outcome').notNull().default('running'),
    /** Workspaces listed, customers read, changes by action, held, orphans, API calls. */
    counts: jsonb('counts').$type<Record<string, number>>().notNull().default({}),
    error: text('error'),
    /** The listing was read to its end (known once listed). */
    listingComplete: boolean('listing_complete'),
    /** When the hold decision was committed: only then do its planned changes count as admitted. */
    decidedAt: tz('decided_at'),
  },
  (t) => [index('sweeps_started_at_idx').on(t.startedAt)],
);

/** The changes a sweep planned (what `status` and the audit refer back to). */
export const sweepChanges = pgTable(
  'sweep_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sweepId: text('sweep_id').notNull(),
    /** The customer, or null for an orphan's change. */
    customerId: text('customer_id'),
    action: text('action').notNull(),
    workspaceId: uuid('workspace_id'),
    fromState: text('from_state'),
    toState: text('to_state'),
    held: boolean('held').notNull().default(false),
    /** A sync was queued for it (false for held-only subjects and known conflicts). */
    queued: boolean('queued').notNull().default(false),
  },
  (t) => [index('sweep_changes_sweep_idx').on(t.sweepId, t.customerId)],
);

/** Workspaces linked to no customer, as of the last complete listing. */
export const orphans = pgTable('orphans', {
  workspaceId: uuid('workspace_id').primaryKey(),
  name: text('name').notNull(),
  status: text('status').notNull(),
  sweepId: text('sweep_id').notNull(),
  seenAt: tz('seen_at').notNull(),
});

/** Destructive changes held for a person (`approve`). */
export const holds = pgTable(
  'holds',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The sweep that held it, or null when the rolling-window limit held it. */
    sweepId: text('sweep_id'),
    /** The customer, or null for an orphan's change (then `workspaceId` names it). */
    customerId: text('customer_id'),
    /** A deactivation, a delete, or the re-creation (`create`) of a workspace that went missing. */
    action: text('action', { enum: [...GATED_ACTIONS] }).notNull(),
    workspaceId: uuid('workspace_id'),
    /** held → approved (released by a person) → done (performed) or void (no longer needed) */
    state: text('state', { enum: ['held', 'approved', 'done', 'void'] })
      .notNull()
      .default('held'),
    createdAt: tz('created_at').notNull(),
    decidedAt: tz('decided_at'),
    /**
     * Why it was held: `limit` (the mass-change limit), or `source-empty` / `source-shrank` (the
     * customers source returned no rows, or far fewer, while workspaces were linked).
     */
    reason: text('reason', { enum: [...HOLD_REASONS] })
      .notNull()
      .default('limit'),
  },
  (t) => [
    index('holds_customer_idx').on(t.customerId, t.state),
    uniqueIndex('holds_one_open_per_subject_action')
      .on(sql`coalesce(${t.customerId}, ${t.workspaceId}::text)`, t.action)
      .where(sql`${t.state} in ('held', 'approved')`),
  ],
);

/** Every change attempted: who asked, on what, before → after, how it went, what the API said. */
export const audit = pgTable(
  'audit',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: tz('at').notNull(),
    /** sweep, webhook, notify, enqueue, retry, approve, schedule */
    trigger: text('trigger').notNull(),
    sweepId: text('sweep_id'),
    jobId: text('job_id'),
    /** The customer, or null for an orphan's change. */
    customerId: text('customer_id'),
    workspaceId: uuid('workspace_id'),
    action: text('action').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    /** started, ok, failed, held, skipped */
    outcome: text('outcome').notNull(),
    attempts: integer('attempts').notNull().default(1),
    message: text('message'),
    destructive: boolean('destructive').notNull().default(false),
  },
  (t) => [
    index('audit_customer_idx').on(t.customerId, t.at),
    // The retention job's deletes by age.
    index('audit_at_idx').on(t.at),
    index('audit_destructive_idx')
      .on(t.at)
      .where(sql`${t.destructive}`),
  ],
);

/**
 * The last sync of each subject (a customer id, or `workspace:<id>` for an orphan): when it ran and
 * how it ended. `failed` rows are what `status` lists and `retry-failed` queues again.
 */
export const syncState = pgTable(
  'sync_state',
  {
    subject: text('subject').primaryKey(),
    at: tz('at').notNull(),
    /** ok, held, failed */
    outcome: text('outcome').notNull(),
    /** For failures: permanent, retryable (out of attempts), auth. */
    kind: text('kind'),
    reason: text('reason'),
    attempts: integer('attempts').notNull().default(1),
  },
  (t) => [
    index('sync_state_failed_idx')
      .on(t.at)
      .where(sql`${t.outcome} = 'failed'`),
    index('sync_state_at_idx').on(t.at),
  ],
);

/** Webhook deliveries seen, by source and event id; kept at least 4 days. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    source: text('source').notNull(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    customerId: text('customer_id'),
    occurredAt: tz('occurred_at').notNull(),
    receivedAt: tz('received_at').notNull(),
    /** applied, stale (older than the last applied), ignored (type we do not act on) */
    result: text('result').notNull(),
    /** When an applied event's sync was queued; null until then (re-queued by every daemon). */
    queuedAt: tz('queued_at'),
    /**
     * SHA-256 of the delivery's signed bytes (its body): one body is accepted once per route,
     * whatever id it comes under. Null on rows recorded before migration 0016.
     */
    bodyDigest: bytea('body_digest'),
  },
  (t) => [
    primaryKey({ columns: [t.source, t.eventId] }),
    uniqueIndex('webhook_events_body_digest_key').on(t.source, t.bodyDigest),
    index('webhook_events_received_idx').on(t.receivedAt),
    index('webhook_events_unqueued_idx')
      .on(t.receivedAt)
      .where(sql`${t.result} = 'applied' and ${t.queuedAt} is null`),
  ],
);

/**
 * Which of our customers a billing system's own customer id is (Paddle's `ctm_…`), learned only
 * from events whose id for us comes from a field the merchant's API alone can set; subscription
 * events, whose metadata the buyer writes, are resolved through it (src/webhooks/vendorIdentity.ts).
 */
export const vendorCustomers = pgTable(
  'vendor_customers',
  {
    /** The route (`paddle`). */
    source: text('source').notNull(),
    vendorCustomerId: text('vendor_customer_id').notNull(),
    customerId: text('customer_id').notNull(),
    /** The event that taught it, and its time: an older event does not move it back. */
    eventId: text('event_id').notNull(),
    occurredAt: tz('occurred_at').notNull(),
    updatedAt: tz('updated_at').notNull(),
  },
  // Named as Postgres named the PRIMARY KEY written inline in migration 0016.
  (t) => [primaryKey({ name: 'vendor_customers_pkey', columns: [t.source, t.vendorCustomerId] })],
);

/**
 * Per customer, the newest event applied, and per field the last event that set it: an event
 * older than a field's mark leaves that field alone.
 */
export const customerEventMarks = pgTable('customer_event_marks', {
  customerId: text('customer_id').primaryKey(),
  lastEventAt: tz('last_event_at').notNull(),
  lastEventId: text('last_event_id').notNull(),
  nameEventAt: tz('name_event_at'),
  statusEventAt: tz('status_event_at'),
});

/**
 * The name of a mint whose workspace id has not come back yet (see migration 0012): forgotten when
 * the customer's link is stored.
 */
export const pendingMints = pgTable('pending_mints', {
  customerId: text('customer_id').primaryKey(),
  workspaceName: text('workspace_name').notNull(),
  at: tz('at').notNull().defaultNow(),
});

/**
 * The size of the customers source last accepted (see migration 0014): by a complete sweep that
 * found no outage, or by a person approving a change an outage held. One row.
 */
export const sourceSize = pgTable(
  'source_size',
  {
    singleton: boolean('singleton').primaryKey().default(true),
    rowCount: bigint('row_count', { mode: 'number' }).notNull(),
    at: tz('at').notNull().defaultNow(),
    /** `sweep <id>`, or who approved. */
    acceptedBy: text('accepted_by').notNull(),
  },
  // Postgres named the CHECK written inline in migration 0014.
  (t) => [check('source_size_singleton_check', sql`${t.singleton}`)],
);

/**
 * The generation of the newest sync of each subject (see migration 0013): a sync whose generation
 * is no longer the newest makes no further change.
 */
export const syncClaims = pgTable('sync_claims', {
  subject: text('subject').primaryKey(),
  generation: bigint('generation', { mode: 'number' }).notNull(),
  at: tz('at').notNull().defaultNow(),
});

/**
 * Leases: a named lock held by one daemon until `expires_at` (Postgres's clock), renewed by its
 * holder while it works (the sweep), or left to lapse (the daily retention job). A holder that
 * vanishes simply stops renewing.
 */
export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  /** A random id per holding (never a host name): only its holder renews or releases it. */
  holder: text('holder').notNull(),
  expiresAt: tz('expires_at').notNull(),
});
