/**
 * The design lives in the repository: every document a code or test comment cites (a path ending
 * in .md, .json or .png) exists in it, no comment cites a file outside it, and every relative link
 * of the Markdown pages (README.md, docs/) leads to a file of the repository, or to a heading of
 * the page it names. A failure names each citation as file:line.
 *
 * How a cited path is read:
 * - in a comment, a path that starts with ./ or ../ is relative to the citing file's folder, as an
 *   import is; any other path, bare or with folders, is relative to the repository's root (so a
 *   bare name passes only when the file is at the root);
 * - in Markdown, a link is relative to the page's folder, as GitHub renders it, and a leading /
 *   means the repository's root;
 * - a path that leaves the repository, or that starts in the shared/ folder the design documents
 *   used to live in beside the checkout, is outside the repository whether or not it exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The folders whose TypeScript comments are checked. */
const CODE_FOLDERS = ['src', 'test', 'simulator', 'demo', 'chaos', 'bench', 'build'];
const SKIPPED = new Set(['node_modules', '.git', 'dist', 'dist-simulator', 'coverage']);

/** A path ending in .md, .json or .png, not part of a longer name, a URL or a call (`res.json()`). */
const CITED = /(?<![\w@./-])((?:\.{1,2}\/)*[\w@-][\w@./-]*\.(?:md|json|png))(?![\w(])/g;
const ANY_CITED = new RegExp(CITED.source);
const URL_LIKE = /\b[a-z][a-z0-9+.-]*:\/\/\S*/gi;

/** Every file under `folder` (relative to the root) whose name ends with `ending`. */
function filesUnder(folder: string, ending: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, folder), { withFileTypes: true })) {
    const path = folder === '.' ? entry.name : `${folder}/${entry.name}`;
    if (entry.isDirectory() && !SKIPPED.has(entry.name)) found.push(...filesUnder(path, ending));
    else if (entry.isFile() && entry.name.endsWith(ending)) found.push(path);
  }
  return found;
}

/** The comments of a TypeScript source: each comment's offset and text, found by the parser. */
function commentsOf(fileName: string, text: string): { pos: number; text: string }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const comments = new Map<number, string>();
  const collect = (pos: number) => {
    const ranges = [
      ...(ts.getLeadingCommentRanges(text, pos) ?? []),
      ...(ts.getTrailingCommentRanges(text, pos) ?? []),
    ];
    for (const range of ranges) comments.set(range.pos, text.slice(range.pos, range.end));
  };
  // The comments are the trivia before each token: visit every token, skipping the JSDoc nodes
  // (parsed out of comments themselves), and read the trivia at the token's full start.
  const visit = (node: ts.Node): void => {
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) {
      return;
    }
    const children = node.getChildren(source);
    if (children.length === 0) collect(node.getFullStart());
    children.forEach(visit);
  };
  visit(source);
  return [...comments].map(([pos, comment]) => ({ pos, text: comment }));
}

/** True when a path, as written, starts in the shared/ folder that lies beside a checkout. */
const startsInShared = (path: string) => /^(?:\.{1,2}\/)*shared\//.test(path);

/** Why a path cited from `fromFile` is wrong, or undefined when it names a file of the repository. */
function problemWith(target: string, fromFile: string, markdown: boolean): string | undefined {
  const path = decodeURIComponent(target);
  const base = markdown
    ? path.startsWith('/')
      ? ROOT
      : dirname(join(ROOT, fromFile))
    : /^\.{1,2}\//.test(path)
      ? dirname(join(ROOT, fromFile))
      : ROOT;
  const absolute = resolve(base, path.replace(/^\//, ''));
  const inside = absolute === resolve(ROOT) || absolute.startsWith(resolve(ROOT) + sep);
  if (!inside || startsInShared(path)) return `${target}: a file outside the repository`;
  if (!existsSync(absolute)) return `${target}: no such file in the repository`;
  return undefined;
}

/** 1-based line of an offset. */
const lineAt = (text: string, offset: number) => text.slice(0, offset).split('\n').length;

/** The citations in a TypeScript source's comments that name no file of the repository. */
function codeProblems(file: string, text: string): string[] {
  const problems: string[] = [];
  // Parsing is the slow part: a source with no citation anywhere has none in its comments.
  if (!ANY_CITED.test(text.replace(URL_LIKE, ' '))) return problems;
  for (const comment of commentsOf(file, text)) {
    const plain = comment.text.replace(URL_LIKE, (url) => ' '.repeat(url.length));
    for (const match of plain.matchAll(CITED)) {
      const target = match[1] ?? '';
      const problem = problemWith(target, file, false);
      if (problem) problems.push(`${file}:${lineAt(text, comment.pos + match.index)}: ${problem}`);
    }
  }
  return problems;
}

/** Markdown with its code (fenced blocks and inline spans) blanked out, lines kept in place. */
function withoutCode(markdown: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank)
    .replace(/(`+)[^`\n]*?\1/g, blank);
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function slugOf(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings (a repeated heading gets -1, -2… as on GitHub). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  const fenced = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of fenced.matchAll(/^#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$/gm)) {
    const slug = slugOf(match[1] ?? '');
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
  }
  return anchors;
}

/** The link targets of a page (inline links, images, reference definitions) with their lines. */
function linksOf(markdown: string): { line: number; target: string }[] {
  const text = withoutCode(markdown);
  const inline = /!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)/g;
  const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/gm;
  return [...text.matchAll(inline), ...text.matchAll(definition)].map((match) => ({
    line: lineAt(text, match.index),
    target: (match[1] ?? '').replace(/^<|>$/g, ''),
  }));
}

/** The relative links of a Markdown page that lead to no file, or to no heading of their page. */
function markdownProblems(file: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const { line, target } of linksOf(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:…
    const [path = '', anchor] = target.split('#');
    const problem = path === '' ? undefined : problemWith(path, file, true);
    if (problem) {
      problems.push(`${file}:${line}: ${problem}`);
      continue;
    }
    if (anchor === undefined) continue;
    const page = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), path);
    if (path !== '' && (!page.endsWith('.md') || statSync(page).isDirectory())) continue;
    const pageText = path === '' ? markdown : readFileSync(page, 'utf8');
    if (!anchorsOf(pageText).has(decodeURIComponent(anchor))) {
      problems.push(`${file}:${line}: ${target}: no heading #${anchor} in ${relative(ROOT, page)}`);
    }
  }
  return problems;
}

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('citations of documents', () => {
  it('finds a planted citation of a missing or outside file, in comments only', () => {
    // Spelled in parts, so that this file itself cites nothing outside the repository.
    const outside = ['..', 'shared', 'agent-engine', 'API.md'].join('/');
    const planted = [
      '/** The gate (docs/design.md §5; DESIGN.md §5). */',
      `const body = await res.json(); // ${outside} "Rename trap"`,
      `const text = '/* not a comment: NOWHERE.md */' + \`\${x /* docs/missing-page.md */}\`;`,
      `// see https://example.com/README.md and shared/agent-engine/API.md`,
      '/* package.json, docs/console-held.png, ./doc-citations.test.ts and ../../README.md */',
    ].join('\n');
    expect(codeProblems('test/unit/planted.ts', planted)).toEqual([
      'test/unit/planted.ts:1: DESIGN.md: no such file in the repository',
      `test/unit/planted.ts:2: ${outside}: a file outside the repository`,
      'test/unit/planted.ts:3: docs/missing-page.md: no such file in the repository',
      'test/unit/planted.ts:4: shared/agent-engine/API.md: a file outside the repository',
    ]);
  });

  it('finds a planted broken link, file or heading, outside code', () => {
    const planted = [
      '# A page',
      '[the gate](design.md#5-destructive-changes-are-the-dangerous-ones), [ok](#a-page)',
      '[gone](missing.md) and ![shot](console-gone.png)',
      '`[in code](nowhere.md)` and [no heading](safety.md#no-such-heading)',
      '```',
      '[in a block](nowhere.md)',
      '```',
      '[up and out](../../elsewhere/README.md) [web](https://example.com/x.md)',
    ].join('\n');
    expect(markdownProblems('docs/planted.md', planted)).toEqual([
      'docs/planted.md:3: missing.md: no such file in the repository',
      'docs/planted.md:3: console-gone.png: no such file in the repository',
      'docs/planted.md:4: safety.md#no-such-heading: no heading #no-such-heading in docs/safety.md',
      'docs/planted.md:8: ../../elsewhere/README.md: a file outside the repository',
    ]);
  });

  it('reads anchors as GitHub makes them', () => {
    expect(slugOf('5. Destructive changes are the dangerous ones')).toBe(
      '5-destructive-changes-are-the-dangerous-ones',
    );
    expect(slugOf('Safety: what `customer-sync` guarantees')).toBe(
      'safety-what-customer-sync-guarantees',
    );
    expect([...anchorsOf('# A\n## A\n```\n# Not\n```\n')]).toEqual(['a', 'a-1']);
  });

  it('every comment in the code and tests cites a file of the repository', () => {
    const files = CODE_FOLDERS.flatMap((folder) => filesUnder(folder, '.ts'));
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((file) => codeProblems(file, read(file)))).toEqual([]);
  });

  it('every relative link of README.md and the pages under docs/ leads somewhere', () => {
    const pages = filesUnder('.', '.md');
    expect(pages).toContain('README.md');
    expect(pages).toContain('docs/design.md');
    expect(pages.flatMap((page) => markdownProblems(page, read(page)))).toEqual([]);
  });
});
