/** The CLI's pure parts: usage errors before any connection, formatting, the sweep summary, the demo's guards and signed webhook. */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';

import { renderPlan } from '../../src/cli/commands/plan.js';
import type { CliStream } from '../../src/cli/context.js';
import { formatDuration, table } from '../../src/cli/format.js';
import { runCli } from '../../src/cli/program.js';
import { summaryLines } from '../../src/cli/sweepView.js';
import type { Policy } from '../../src/core/planner.js';
import {
  curlCommand,
  DEMO_WEBHOOK_SECRET,
  demoSettings,
  signedWebhook,
} from '../../demo/settings.js';
import { approvalTarget } from '../../src/ops/approve.js';
import type { PlanResult } from '../../src/ops/plan.js';
import type { SweepSummary } from '../../src/ops/sweep.js';

function capture(): CliStream & { text: string } {
  const stream = {
    text: '',
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

async function run(args: string[], env: Record<string, string> = {}) {
  const stdout = capture();
  const stderr = capture();
  // Nothing listens on these ports: a command that tried to connect would say so.
  const code = await runCli(args, {
    env: {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      REDIS_URL: 'redis://127.0.0.1:1',
      ...env,
    },
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('runCli', () => {
  it('refuses bad usage with exit 2 before connecting to anything', async () => {
    for (const args of [
      ['plan', '--json', '--nope'],
      ['enqueue'],
      ['approve'],
      ['explain'],
      ['sweep', 'x'],
      ['nope'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toMatch(/cannot reach/);
      expect(r.stdout).toBe('');
    }
  });

  it('prints help with exit 0, and usage with exit 2 when given no command', async () => {
    expect((await run(['--help'])).code).toBe(0);
    expect((await run(['sweep', '--help'])).stdout).toMatch(/--wait/);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage: customer-sync/);
  });

  it('names a bad variable in one line, and an unreachable service with how to start it', async () => {
    const bad = await run(['status'], { ORPHANS: 'burn' });
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toBe(
      'customer-sync: ORPHANS="burn" is invalid: expected one of report, deactivate, delete\n',
    );
    const down = await run(['status']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(
      /^customer-sync: cannot reach Postgres at postgres:\/\/postgres@127\.0\.0\.1:1\/none .*docker compose up -d postgres redis/m,
    );
    expect(down.stderr).toMatch(/^customer-sync: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 /m);
  });
});

describe('approvalTarget', () => {
  it('reads digits as a hold, anything else as a sweep, --all alone', () => {
    expect(approvalTarget('42', false)).toEqual({ kind: 'hold', holdId: 42 });
    expect(approvalTarget('0b6c-uuid', false)).toEqual({ kind: 'sweep', sweepId: '0b6c-uuid' });
    expect(approvalTarget(undefined, true)).toEqual({ kind: 'all' });
    expect(approvalTarget('42', true)).toBeNull();
    expect(approvalTarget(undefined, false)).toBeNull();
  });
});

describe('format', () => {
  it('aligns columns and writes durations', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['xyz', '1'],
          ['x', '22'],
        ],
      ),
    ).toEqual(['A    LONGER', 'xyz  1', 'x    22']);
    expect([
      formatDuration(340),
      formatDuration(1234),
      formatDuration(185_000),
      formatDuration(7_800_000),
    ]).toEqual(['340ms', '1.2s', '3m05s', '2h10m']);
  });
});

const summary = (over: Partial<SweepSummary>): SweepSummary => ({
  sweepId: 's1',
  outcome: 'ok',
  durationMs: 1500,
  counts: { workspaces: 3, pages: 1, customers: 2, create: 2 },
  queued: 2,
  ended: 2,
  failed: 0,
  held: 0,
  exitCode: 0,
  ...over,
});

describe('summaryLines', () => {
  it('ends with a result line that gives the reason and the exit code', () => {
    expect(summaryLines(summary({})).at(-1)).toBe('result: all done, in step (exit 0)');
    expect(summaryLines(summary({ failed: 1, exitCode: 1 })).at(-1)).toMatch(
      /^result: 1 sync failing .*\(exit 1\)$/,
    );
    expect(summaryLines(summary({ outcome: 'held', exitCode: 1 })).at(-1)).toMatch(/approve s1/);
    expect(
      summaryLines(summary({ outcome: 'incomplete', exitCode: 1, error: 'HTTP 503' })).join('\n'),
    ).toMatch(/error: HTTP 503\nresult: the listing was incomplete/);
    expect(summaryLines(summary({})).slice(0, 3)).toEqual([
      'sweep s1 finished: ok in 1.5s',
      '  listed 3 workspaces (1 page), read 2 customers',
      '  planned: create 2',
    ]);
  });
});

const policy: Policy = {
  nameTemplate: '{name}',
  deleteGraceMs: 0,
  maxDestructivePerSweep: 1,
  maxDestructiveShare: 0.1,
  orphans: 'report',
};

describe('renderPlan', () => {
  it('says when a sweep would be held, and when the listing was incomplete', () => {
    const plan: PlanResult = {
      changes: [
        {
          customerId: 'c1',
          action: 'deactivate',
          workspaceId: 'w1',
          from: 'active',
          to: 'inactive',
        },
      ],
      orphans: [],
      conflicts: [],
      held: true,
      sourceOutage: null,
      limitExceeded: true,
      destructive: 2,
      listingComplete: false,
      error: 'HTTP 503',
      counts: { customers: 1, workspaces: 1, deactivate: 2, linked: 5 },
    };
    const text = renderPlan(plan, policy).join('\n');
    expect(text).toMatch(/LISTING INCOMPLETE \(HTTP 503\)/);
    expect(text).toMatch(/deactivate\s+c1\s+w1\s+active → inactive/);
    expect(text).toMatch(
      /Held: YES — 2 destructive changes exceed MAX_DESTRUCTIVE_PER_SWEEP=1, MAX_DESTRUCTIVE_SHARE=10% of 5/,
    );
  });
});

describe('demo settings', () => {
  it('never resets a database or prefix whose name does not say demo', () => {
    const s = demoSettings({
      DATABASE_URL: 'postgres://u:p@db:5432/production',
      QUEUE_PREFIX: 'customer-sync',
    });
    expect(s.databaseUrl).toBe('postgres://u:p@db:5432/customer_sync_demo');
    expect(s.prefix).toBe('customer-sync-demo');
    expect(s.notes).toHaveLength(2);
    const ok = demoSettings({
      DATABASE_URL: 'postgres://u@db/my_demo',
      QUEUE_PREFIX: 'x-demo',
      PORT: '0',
    });
    expect(ok).toMatchObject({
      databaseUrl: 'postgres://u@db/my_demo',
      prefix: 'x-demo',
      port: 0,
      notes: [],
    });
  });

  it('signs a webhook the Standard Webhooks library verifies, as a curl command', () => {
    const request = signedWebhook('http://127.0.0.1:8080', {
      type: 'customer.updated',
      data: { id: "cus_'1", name: 'A' },
    });
    expect(new Webhook(DEMO_WEBHOOK_SECRET).verify(request.body, request.headers)).toMatchObject({
      data: { id: "cus_'1" },
    });
    const curl = curlCommand(request);
    expect(curl).toMatch(
      /^curl -sS -i -X POST 'http:\/\/127\.0\.0\.1:8080\/webhooks\/billing' \\\n/,
    );
    expect(curl).toContain(`"id":"cus_'\\''1"`);
  });
});
