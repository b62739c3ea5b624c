/**
 * The vocabulary of customer-sync.
 *
 * - **customer**: a row of `customers`, the desired state.
 * - **workspace**: the Agent Engine object for a customer, the actual state.
 * - **link**: the durable customer ↔ workspace id pairing (`customer_links`).
 * - **sweep**: one full comparison of every customer with every workspace, producing a plan.
 * - **plan**: the changes a sweep would make; **change**: one of create, adopt, rename, activate,
 *   deactivate, delete.
 * - **sync**: the job that brings one customer's workspace to its desired state.
 * - **orphan**: a workspace linked to no customer.
 * - **hold**: a destructive change kept back for a person to `approve`.
 * - **trigger**: what asked for a sync (a sweep, a webhook, a direct write, the CLI).
 * - **region**: where the Agent Engine keeps a workspace, chosen once, when it is minted
 *   (`region_id` of the scoped-token request); nothing moves a workspace to another region.
 */

export type CustomerStatus = 'active' | 'inactive' | 'deleted';
export type WorkspaceStatus = 'active' | 'inactive';

/** A row of `customers`: the desired state. */
export interface Customer {
  readonly id: string;
  /**
   * The display name; empty when the source has none (NULL, or a view's blank column): such a
   * customer gets no workspace (see `lacksName`).
   */
  readonly name: string;
  readonly status: CustomerStatus;
  /**
   * Milliseconds since the epoch; orders claimants of one workspace name (earliest first, then
   * the id). Null when the source has no `created_at`: then the id alone decides.
   */
  readonly createdAt: number | null;
  /**
   * The row's `region` as written (`us`, `eu`, a region id, or anything a person typed); null or
   * absent: `DEFAULT_REGION`. Read by core/region.ts.
   */
  readonly region?: string | null;
}

/** A row of `customer_links`. */
export interface Link {
  readonly customerId: string;
  readonly workspaceId: string;
  readonly workspaceName: string;
  /**
   * The workspace's last-known status (from the last listing or API answer): `missing` when it is
   * known to be gone, null when unknown (then a sync reads it by id).
   */
  readonly workspaceStatus?: WorkspaceStatus | typeof MISSING | null;
  /** When the customer was first seen deleted (ms), or null. */
  readonly deletedSeenAt: number | null;
  /** When its workspace's delete is due (ms), or null. */
  readonly deleteDueAt: number | null;
  /**
   * The region id the workspace was minted in by our create; null (or absent) when unknown: a
   * workspace adopted by name (the API's workspace object has no region).
   */
  readonly regionId?: string | null;
}

/** What customer-sync needs of an Agent Engine workspace. */
export interface WorkspaceState {
  readonly id: string;
  readonly name: string;
  readonly status: WorkspaceStatus;
}

/**
 * The Agent Engine's region ids (docs/agent-engine-api.md): US is the API's default. A region
 * matters only when a workspace is minted.
 */
export const REGION_IDS = {
  us: '645a183f-b12b-4c6e-8ad3-99e165603450',
  eu: 'b9e48d61-f082-4a14-a8d0-799a907938cb',
} as const;

/** Every action a change can have, in the order plans and summaries list them. */
export const ACTIONS = ['create', 'adopt', 'rename', 'activate', 'deactivate', 'delete'] as const;
export type Action = (typeof ACTIONS)[number];

/** One change of a plan. `customerId` is null for an orphan's change. */
export interface Change {
  readonly customerId: string | null;
  readonly action: Action;
  readonly workspaceId: string | null;
  readonly from: string | null;
  readonly to: string | null;
}

/** A customer that cannot be given a workspace without sharing or stealing one. */
export interface Conflict {
  readonly customerId: string;
  readonly name: string;
  readonly reason: string;
}

/** The name every organization's first workspace has; never adopted, changed or reported. */
export const DEFAULT_WORKSPACE_NAME = 'default';

/**
 * Whether a name is the default workspace's, case-insensitively: the API decides how it spells
 * it (`Default`, `DEFAULT`), and a workspace so named is never linked, renamed or destroyed.
 */
export const isDefaultName = (name: string): boolean =>
  name.toLowerCase() === DEFAULT_WORKSPACE_NAME;

/**
 * `from` of a change whose workspace is gone (a 404 or a tombstone where a link points): its
 * re-creation, or the dropping of a deleted customer's link. Such changes pass the destructive
 * gate like deletes: a wrong URL or an API incident must not mint a fleet or forget its links.
 */
export const MISSING = 'missing';

/** What asked for a sync (or made a change: `adopt`, a person's); recorded in the audit. */
export type Trigger =
  'sweep' | 'webhook' | 'notify' | 'enqueue' | 'backfill' | 'retry' | 'approve' | 'due' | 'adopt';
