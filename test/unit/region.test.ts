/** Data residency's pure rules (src/core/region.ts): reading a region, and what counts as a mismatch. */
import { describe, expect, it } from 'vitest';

import {
  describeRegion,
  parseRegion,
  regionMismatch,
  regionView,
  wantedRegion,
} from '../../src/core/region.js';
import { REGION_IDS } from '../../src/core/types.js';

const { us: US, eu: EU } = REGION_IDS;
const OTHER = '0f0e0d0c-0000-4000-8000-000000000001';

describe('parseRegion', () => {
  it.each([
    ['us', US],
    ['US', US],
    [' eu ', EU],
    [EU.toUpperCase(), EU],
    [OTHER, OTHER],
  ])('reads %j as a region id', (raw, id) => expect(parseRegion(raw)).toBe(id));

  it.each(['mars', 'eu-west', '', 'u s', `${EU}x`, '\teu', '645a183f-b12b-4c6e-8ad3'])(
    'reads %j as no region',
    (raw) => expect(parseRegion(raw)).toBeUndefined(),
  );
});

describe('wantedRegion', () => {
  it('is the row’s region, else the default for null, absent or blank', () => {
    expect(wantedRegion({ region: 'eu' }, US)).toEqual({ ok: true, regionId: EU });
    expect(wantedRegion({ region: null }, EU)).toEqual({ ok: true, regionId: EU });
    expect(wantedRegion({}, EU)).toEqual({ ok: true, regionId: EU });
    expect(wantedRegion({ region: '  ' }, US)).toEqual({ ok: true, regionId: US });
  });

  it('names a value that is no region, never defaulting it', () => {
    expect(wantedRegion({ region: 'mars' }, US)).toEqual({
      ok: false,
      value: 'mars',
      reason: 'region "mars" is not us, eu or a region id (uuid): no workspace is created for it',
    });
  });
});

describe('regionMismatch', () => {
  const customer = { id: 'c1', status: 'active' as const, region: 'eu' };
  const link = { workspaceId: 'w1', workspaceStatus: 'active' as const, regionId: US as string };

  it('is the workspace minted elsewhere than the row now wants', () => {
    expect(regionMismatch(customer, link, US)).toEqual({
      customerId: 'c1',
      workspaceId: 'w1',
      wanted: EU,
      createdIn: US,
    });
    expect(regionMismatch({ ...customer, region: null }, link, EU)).not.toBeNull();
  });

  it('is none without a link, an unknown region, a gone workspace, a deleted row or a bad value', () => {
    expect(regionMismatch(customer, null, US)).toBeNull();
    expect(regionMismatch(customer, { ...link, regionId: null }, US)).toBeNull();
    expect(regionMismatch(customer, { ...link, workspaceStatus: 'missing' }, US)).toBeNull();
    expect(regionMismatch({ ...customer, status: 'deleted' }, link, US)).toBeNull();
    expect(regionMismatch({ ...customer, region: 'mars' }, link, US)).toBeNull();
    expect(regionMismatch({ ...customer, region: 'US' }, link, EU)).toBeNull();
  });
});

describe('describeRegion', () => {
  const customer = { id: 'c1', status: 'active' as const };
  const link: { workspaceId: string; workspaceStatus: 'active'; regionId: string | null } = {
    workspaceId: 'w1',
    workspaceStatus: 'active',
    regionId: US,
  };

  it('says where the workspace is and where the row wants it', () => {
    const say = (region: string | null, l: typeof link | null, fallback: string = US) =>
      describeRegion(regionView({ ...customer, region }, l, fallback), l !== null);
    expect(say('eu', null)).toBe('eu: a workspace created for it is created there');
    expect(say(null, null, EU)).toBe(
      'eu (DEFAULT_REGION): a workspace created for it is created there',
    );
    expect(say('us', link)).toBe('us, as the row wants');
    expect(say('eu', link)).toBe(
      'the workspace is in us, the row wants eu: nothing will move it (a workspace stays in the region it was created in)',
    );
    expect(say(OTHER, { ...link, regionId: null })).toBe(
      `wants ${OTHER}; the workspace's region is not known (linked by name, not created by customer-sync)`,
    );
    expect(say('mars', link)).toContain('region "mars" is not us, eu or a region id');
  });
});
