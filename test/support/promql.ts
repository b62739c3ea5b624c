/**
 * The PromQL the project ships (alerting rules, the Grafana dashboard, the autoscaler's query) and
 * the metric names it reads, for the check that a running daemon exports each of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '../..');

/** Words of PromQL that are not metric names: keywords, and names Prometheus itself writes. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names an expression reads: identifiers that are not functions, keywords, label
 * names (inside `{}` or a `by (...)` list), strings, durations or Grafana variables.
 */
export function metricNames(expr: string): Set<string> {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\$\{?\w+\}?/g, ' ') // Grafana variables
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, word, call] = match;
    if (!word || call || KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return names;
}

export interface ShippedQuery {
  readonly where: string;
  readonly expr: string;
}

/** Every PromQL expression of the alerting rules. */
export function ruleQueries(): ShippedQuery[] {
  const file = 'deploy/prometheus/customer-sync.rules.yml';
  const doc = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'))[0]?.toJS() as {
    groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  return doc.groups
    .flatMap((g) => g.rules)
    .map((r) => ({ where: `${file} ${r.alert ?? r.record ?? ''}`, expr: r.expr }));
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every PromQL expression of the Grafana dashboard: panels' targets and template queries. */
export function dashboardQueries(): ShippedQuery[] {
  const file = 'deploy/grafana/customer-sync.dashboard.json';
  const dashboard = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as {
    panels: Panel[];
    templating: { list: { name: string; query?: unknown }[] };
  };
  const out: ShippedQuery[] = [];
  const visit = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) out.push({ where: `${file} "${panel.title ?? ''}"`, expr: target.expr });
      }
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating.list) {
    const query = variable.query as { query?: string } | string | undefined;
    const text = typeof query === 'string' ? query : query?.query;
    // label_values(metric, label): the metric is the first argument.
    const metric = text && /^label_values\(\s*([\w:]+)/.exec(text)?.[1];
    if (metric) out.push({ where: `${file} variable ${variable.name}`, expr: metric });
  }
  return out;
}

/** The queries of the Kubernetes manifests: the KEDA ScaledObjects' Prometheus triggers. */
export function manifestQueries(): ShippedQuery[] {
  const out: ShippedQuery[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(entry.name)) {
        for (const doc of parseAllDocuments(readFileSync(join(ROOT, path), 'utf8'))) {
          const object = doc.toJS() as {
            kind?: string;
            spec?: { triggers?: { type: string; metadata: { query?: string } }[] };
          } | null;
          for (const trigger of object?.spec?.triggers ?? []) {
            if (trigger.type === 'prometheus' && trigger.metadata.query) {
              out.push({ where: `${path} ${object?.kind ?? ''}`, expr: trigger.metadata.query });
            }
          }
        }
      }
    }
  };
  walk('deploy/kubernetes');
  return out;
}

/** Names from the `# TYPE` lines of a Prometheus text exposition, with histogram series names. */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) continue;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}
