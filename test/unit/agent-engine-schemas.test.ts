/**
 * The hand-written checks on the hot path accept exactly what the zod schemas accept: `check`
 * agrees with `safeParse` on arbitrary near-miss answers (the fast path may only ever say yes when
 * zod would), and a refused page still gets zod's readable reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { check, workspaceAnswer, workspacePageAnswer } from '../../src/agent-engine/schemas.js';

const value = fc.oneof(
  fc.constantFrom('active', 'inactive', '', 'x', 'ws-1', null, true, false, 0, 1),
  fc.constant(undefined),
  fc.string(),
  fc.array(fc.constant(1), { maxLength: 1 }),
);

const workspace = fc.oneof(
  fc.record({
    id: fc.oneof(fc.constant('8f1c0a8e-aaaa-4bbb-8ccc-000000000001'), value),
    name: fc.oneof(fc.string(), value),
    organization_id: fc.oneof(fc.constant('org-1'), value),
    status: fc.oneof(fc.constantFrom('active', 'inactive'), value),
    cache_enabled: fc.oneof(fc.constantFrom(null, true, false), value),
    tombstone: fc.oneof(fc.boolean(), value),
    created_at: fc.oneof(fc.constant('2026-01-01T00:00:00Z'), value),
    updated_at: fc.oneof(fc.constant('2026-01-01T00:00:00Z'), value),
    extra: value,
  }),
  value,
);

const valid = {
  id: '8f1c0a8e-aaaa-4bbb-8ccc-000000000001',
  name: 'Acme',
  organization_id: 'org-1',
  status: 'active',
  cache_enabled: null,
  tombstone: false,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
};

describe('answer checks', () => {
  it('agree with zod on arbitrary workspaces and pages', () => {
    fc.assert(
      fc.property(workspace, (w) => {
        expect(check(workspaceAnswer, w).ok).toBe(workspaceAnswer.safeParse(w).success);
      }),
      { numRuns: 2000 },
    );
    const page = fc.record({
      data: fc.oneof(fc.array(workspace, { maxLength: 3 }), value),
      next: fc.oneof(fc.constantFrom(null, undefined, '/api/v1/workspaces?cursor=a'), value),
    });
    fc.assert(
      fc.property(page, (p) => {
        expect(check(workspacePageAnswer, p).ok).toBe(workspacePageAnswer.safeParse(p).success);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts a valid page as it is, and names the path of a refused one', () => {
    const page = { data: [valid, { ...valid, id: 'b' }], next: null };
    expect(check(workspacePageAnswer, page)).toEqual({ ok: true, value: page });
    const bad = check(workspacePageAnswer, { data: [valid, { ...valid, status: 'paused' }] });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/^unexpected answer: data\.1\.status: /);
  });
});
