/**
 * Data residency: the region a customer's workspace is minted in. A row's `region` reads `us`,
 * `eu` (any case, spaces around ignored) or a region id (a uuid); null or blank means
 * `DEFAULT_REGION`. A region matters only at the mint (docs/agent-engine-api.md): a workspace that
 * exists stays where it was created, and a row that now wants another region is reported
 * ({@link regionMismatch}), never acted on. Pure. The reading has two forms, side by side here:
 * {@link wantedRegion} and {@link wantedRegionSql}, with which the report of mismatches compares
 * the whole fleet in one query.
 */
import { type Customer, type Link, MISSING, REGION_IDS } from './types.js';

/** A region id, as the API takes it: a uuid (lower case). */
export const REGION_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const REGION_ID = new RegExp(REGION_ID_PATTERN);

/** What a region may be written as, for error messages. */
export const REGION_EXPECTED = 'us, eu or a region id (uuid)';

/** Spaces around a value are ignored (a hand-typed `'eu '`); nothing else is forgiven. */
const spacesTrimmed = (raw: string) => raw.replace(/^ +| +$/g, '');

/** The region id a written region names; undefined when it is none of us, eu or a uuid. */
export function parseRegion(raw: string): string | undefined {
  const value = spacesTrimmed(raw).toLowerCase();
  if (value === 'us' || value === 'eu') return REGION_IDS[value];
  return REGION_ID.test(value) ? value : undefined;
}

/**
 * The region id a source row's `region` names (SQL over `c.region`), with DEFAULT_REGION as
 * parameter `$n`; null when it names none. `test/integration/region.test.ts`
 * holds it to {@link parseRegion}.
 */
export function wantedRegionSql(n: number): string {
  const value = `lower(btrim(c.region, ' '))`;
  return `case when c.region is null or btrim(c.region, ' ') = '' then $${n}::text
               when ${value} = 'us' then '${REGION_IDS.us}'
               when ${value} = 'eu' then '${REGION_IDS.eu}'
               when ${value} ~ '${REGION_ID_PATTERN}' then ${value} end`;
}

/** The region a customer's workspace is to be minted in, or the row's value that names none. */
export type WantedRegion =
  | { readonly ok: true; readonly regionId: string }
  | { readonly ok: false; readonly value: string; readonly reason: string };

/** The customer's own region, or `defaultRegionId` when the row has none (null or blank). */
export function wantedRegion(
  customer: Pick<Customer, 'region'>,
  defaultRegionId: string,
): WantedRegion {
  const raw = customer.region;
  if (raw === null || raw === undefined || spacesTrimmed(raw) === '') {
    return { ok: true, regionId: defaultRegionId };
  }
  const regionId = parseRegion(raw);
  if (regionId !== undefined) return { ok: true, regionId };
  return {
    ok: false,
    value: raw,
    reason: `region ${JSON.stringify(raw)} is not ${REGION_EXPECTED}: no workspace is created for it`,
  };
}

/** `us`, `eu`, or the id itself: how a person reads a region id. */
export function regionLabel(regionId: string): string {
  if (regionId === REGION_IDS.us) return 'us';
  if (regionId === REGION_IDS.eu) return 'eu';
  return regionId;
}

/** A workspace living in another region than its customer's row now wants. */
export interface RegionMismatch {
  readonly customerId: string;
  readonly workspaceId: string;
  /** The region id the row resolves to now. */
  readonly wanted: string;
  /** The region id the workspace was minted in. */
  readonly createdIn: string;
}

/**
 * Whether the customer's workspace was minted in another region than the row (or
 * `DEFAULT_REGION`) wants now. Only a region we minted in is known (the link's `regionId`); a
 * workspace that is gone or about to be deleted, and a row whose region names none, are no
 * mismatch.
 */
export function regionMismatch(
  customer: Pick<Customer, 'id' | 'status' | 'region'>,
  link: Pick<Link, 'workspaceId' | 'workspaceStatus' | 'regionId'> | null,
  defaultRegionId: string,
): RegionMismatch | null {
  if (!link?.regionId || link.workspaceStatus === MISSING || customer.status === 'deleted') {
    return null;
  }
  const wanted = wantedRegion(customer, defaultRegionId);
  if (!wanted.ok || wanted.regionId === link.regionId) return null;
  return {
    customerId: customer.id,
    workspaceId: link.workspaceId,
    wanted: wanted.regionId,
    createdIn: link.regionId,
  };
}

/** Where a customer's workspace is, and where its row wants it (explain, the console). */
export interface RegionView {
  /** The region id the row resolves to; null when its value names none (`problem` says why). */
  readonly wanted: string | null;
  /** The row names no region: `DEFAULT_REGION` is wanted. */
  readonly fromDefault: boolean;
  /** The region id our create minted the linked workspace in; null without a link, or unknown. */
  readonly createdIn: string | null;
  readonly mismatch: RegionMismatch | null;
  readonly problem: string | null;
}

/** The customer's {@link RegionView}. */
export function regionView(
  customer: Pick<Customer, 'id' | 'status' | 'region'>,
  link: Pick<Link, 'workspaceId' | 'workspaceStatus' | 'regionId'> | null,
  defaultRegionId: string,
): RegionView {
  const wanted = wantedRegion(customer, defaultRegionId);
  const raw = customer.region;
  return {
    wanted: wanted.ok ? wanted.regionId : null,
    fromDefault: raw === null || raw === undefined || spacesTrimmed(raw) === '',
    createdIn: link?.regionId ?? null,
    mismatch: regionMismatch(customer, link, defaultRegionId),
    problem: wanted.ok ? null : wanted.reason,
  };
}

/** One sentence on the customer's region, as explain and the console say it. */
export function describeRegion(view: RegionView, linked: boolean): string {
  if (view.wanted === null) return view.problem ?? '';
  const wanted = `${regionLabel(view.wanted)}${view.fromDefault ? ' (DEFAULT_REGION)' : ''}`;
  if (view.mismatch) {
    return `the workspace is in ${regionLabel(view.mismatch.createdIn)}, the row wants ${wanted}: nothing will move it (a workspace stays in the region it was created in)`;
  }
  if (!linked) return `${wanted}: a workspace created for it is created there`;
  if (view.createdIn === null) {
    return `wants ${wanted}; the workspace's region is not known (linked by name, not created by customer-sync)`;
  }
  return `${regionLabel(view.createdIn)}, as the row wants`;
}
