/** The source's outage rule and an approval's re-decision: pure, so checked here case by case. */
import { describe, expect, it } from 'vitest';

import { statusCallsFor } from '../../src/core/destructive.js';
import { outageMessage, sourceOutage } from '../../src/core/sourceOutage.js';

const share = { maxDestructiveShare: 0.1 };

describe('sourceOutage', () => {
  it('no rows while workspaces are linked is an outage, whatever the fleet size', () => {
    expect(sourceOutage({ rows: 0, accepted: 10, linked: 10 }, share)).toBe('source-empty');
    expect(sourceOutage({ rows: 0, accepted: 1, linked: 1 }, share)).toBe('source-empty');
    // Before any accepted size, the links stand in for it.
    expect(sourceOutage({ rows: 0, accepted: null, linked: 3 }, share)).toBe('source-empty');
  });

  it('an empty source a person accepted, or one with nothing linked, is no outage', () => {
    expect(sourceOutage({ rows: 0, accepted: 0, linked: 5 }, share)).toBeNull();
    expect(sourceOutage({ rows: 0, accepted: 10, linked: 0 }, share)).toBeNull();
  });

  it('shrinking by more than the share since the accepted size is an outage; by the share, churn', () => {
    expect(sourceOutage({ rows: 9, accepted: 10, linked: 10 }, share)).toBeNull();
    expect(sourceOutage({ rows: 8, accepted: 10, linked: 10 }, share)).toBe('source-shrank');
    expect(sourceOutage({ rows: 900_000, accepted: 1_000_000, linked: 1 }, share)).toBeNull();
    expect(sourceOutage({ rows: 899_999, accepted: 1_000_000, linked: 1 }, share)).toBe(
      'source-shrank',
    );
    expect(sourceOutage({ rows: 50, accepted: null, linked: 100 }, share)).toBe('source-shrank');
    // Growth is never an outage.
    expect(sourceOutage({ rows: 20, accepted: 10, linked: 10 }, share)).toBeNull();
  });

  it('says why in one sentence', () => {
    expect(outageMessage('source-empty', { rows: 0, accepted: 10, linked: 10 }, share)).toMatch(
      /^the customers source returns no rows while 10 customers are linked to workspaces\. /,
    );
    expect(outageMessage('source-shrank', { rows: 6, accepted: 10, linked: 10 }, share)).toMatch(
      /returns 6 rows, down from 10: more than MAX_DESTRUCTIVE_SHARE=10% fewer/,
    );
  });
});

describe('statusCallsFor', () => {
  it('a held change is still called for only while the row asks for it', () => {
    expect(statusCallsFor('active', 'deactivate')).toBe(false);
    expect(statusCallsFor('inactive', 'deactivate')).toBe(true);
    expect(statusCallsFor('deleted', 'deactivate')).toBe(true);
    expect(statusCallsFor('inactive', 'delete')).toBe(false);
    expect(statusCallsFor('deleted', 'delete')).toBe(true);
    expect(statusCallsFor('active', 'create')).toBe(true);
    expect(statusCallsFor('deleted', 'create')).toBe(false);
  });
});
