/**
 * The alerting rules, checked by Prometheus' own tool: `promtool check rules` (syntax, PromQL)
 * and `promtool test rules` (deploy/prometheus/customer-sync.rules.test.yml), where each alert
 * has a history that fires it and one that keeps it silent. promtool comes from Debian's
 * `prometheus` package (.ci/run installs it); missing, the test fails and says how to install it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const DIR = join(import.meta.dirname, '../../deploy/prometheus');
const RULES = join(DIR, 'customer-sync.rules.yml');
const TESTS = join(DIR, 'customer-sync.rules.test.yml');

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      'promtool is not installed: apt-get update && apt-get install -y --no-install-recommends prometheus (Debian ships promtool in it; .ci/run does this)',
    );
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string }[] }[];
}
interface TestFile {
  tests: {
    name: string;
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
  }[];
}

const alertNames = (): string[] =>
  (parse(readFileSync(RULES, 'utf8')) as RuleFile).groups
    .flatMap((g) => g.rules)
    .flatMap((r) => (r.alert ? [r.alert] : []));

describe('Prometheus alerting rules', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', RULES);
    expect(output).toContain('SUCCESS');
    expect(status, output).toBe(0);
  });

  it('pass promtool test rules', () => {
    const { status, output } = promtool('test', 'rules', TESTS);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('have, for every alert, a unit test that fires it and one that keeps it silent', () => {
    const tests = (parse(readFileSync(TESTS, 'utf8')) as TestFile).tests;
    const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
    const names = alertNames();
    expect(names).toEqual(
      expect.arrayContaining([
        'CustomerSyncSweepOverdue',
        'CustomerSyncSyncsFailing',
        'CustomerSyncChangesHeld',
        'CustomerSyncBreakerOpen',
        'CustomerSyncRateLimited',
        'CustomerSyncWebhooksNotQueued',
        'CustomerSyncNotReady',
      ]),
    );
    for (const name of names) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${name} has no test that fires`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${name} has no test that stays silent`,
      ).toBe(true);
    }
    // Every test case names an alert that exists (a renamed alert leaves no silent test behind).
    for (const c of cases) expect(names).toContain(c.alertname);
  });

  it('fail promtool test rules when an alert no longer fires as tested (the test bites)', () => {
    // The same tests against rules whose held-change threshold moved from 1 h to 2 h.
    const text = readFileSync(RULES, 'utf8').replace('> 3600', '> 7200');
    expect(text).not.toBe(readFileSync(RULES, 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    try {
      copyFileSync(TESTS, join(dir, 'customer-sync.rules.test.yml'));
      writeFileSync(join(dir, 'customer-sync.rules.yml'), text);
      const run = spawnSync('promtool', ['test', 'rules', 'customer-sync.rules.test.yml'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(run.status).not.toBe(0);
      expect(`${run.stdout}${run.stderr}`).toContain('CustomerSyncChangesHeld');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
