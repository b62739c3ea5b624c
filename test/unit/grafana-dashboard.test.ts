/**
 * The Grafana dashboard's shape: what Grafana needs to import it and lay it out (unique panel ids,
 * a grid of 24 columns with no overlap, every query on the chosen data source, every variable
 * used defined) and the rows the docs promise. Whether its metrics exist is checked against a
 * live daemon in test/integration/metrics-exported.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
}

const dashboard = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '../../deploy/grafana/customer-sync.dashboard.json'),
    'utf8',
  ),
) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string }[] };
};

describe('the Grafana dashboard', () => {
  it('has unique panel ids and lays its panels on the 24-column grid without overlap', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const { gridPos: g, title } of dashboard.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x += 1) {
        for (let y = g.y; y < g.y + g.h; y += 1) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('queries the chosen Prometheus in every panel, with only variables it defines', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(30);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr.trim(), panel.title).not.toBe('');
        for (const [, name] of target.expr.matchAll(/\$\{?(\w+)/g)) {
          if (name?.startsWith('__')) continue; // Grafana's own ($__rate_interval)
          expect(defined, `${panel.title}: $${name}`).toContain(name);
        }
      }
    }
  });

  it('has the rows the docs describe: fleet, sweeps, syncs, the API and webhooks', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Fleet', 'Sweeps', 'Syncs', 'Agent Engine API', 'Webhooks']);
    const titles = dashboard.panels.map((p) => p.title);
    for (const title of [
      'In step',
      'Failing',
      'Held',
      'Pending',
      'Sweep duration (mean and p95 over 6h)',
      'Listing pages per sweep',
      'Syncs per second by outcome',
      'Sync duration p50 / p95',
      'Calls per second by route and status',
      '429s and the shared pause',
      'Webhooks per second by vendor and outcome',
    ])
      expect(titles).toContain(title);
  });
});
