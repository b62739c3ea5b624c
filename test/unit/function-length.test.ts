/**
 * Functions a person can hold: no function in src/ is longer than 80 lines of its own. A function's
 * own lines are its line span minus the spans of the function-like nodes directly inside it (a
 * callback or a nested helper counts for itself, not for the function that holds it). A failure
 * lists every function over the limit, longest first, as file:line name (own lines).
 *
 * `LIST_FUNCTIONS=25 npx vitest run --project unit test/unit/function-length.test.ts` also prints
 * the 25 longest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LIMIT = 80;
/** The functions allowed over the limit, as "file name": none (loadConfig walks a table now). */
const ALLOWED = new Set<string>();

interface FunctionLength {
  file: string;
  line: number;
  name: string;
  ownLines: number;
}

/** Every .ts file under `folder` (relative to the root). */
function tsFilesUnder(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, folder), { withFileTypes: true })) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) found.push(...tsFilesUnder(path));
    else if (entry.isFile() && entry.name.endsWith('.ts')) found.push(path);
  }
  return found;
}

/** The name a reader would look for: the declared name, or the variable or property it is assigned to. */
function nameOf(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (node.name) return node.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) {
    return parent.name.getText(source);
  }
  if (ts.isCallExpression(parent)) {
    const callee = parent.expression;
    const called = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
    return `(callback of ${called.getText(source)})`;
  }
  return '(anonymous)';
}

function lineOf(source: ts.SourceFile, position: number): number {
  return source.getLineAndCharacterOfPosition(position).line + 1;
}

function spanOf(node: ts.Node, source: ts.SourceFile): number {
  return lineOf(source, node.getEnd()) - lineOf(source, node.getStart(source)) + 1;
}

/** Each function of one file with its own lines. */
function measureFile(file: string): FunctionLength[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: FunctionLength[] = [];
  /** Walks `node`'s subtree and returns the summed spans of the outermost functions in it. */
  function visit(node: ts.Node): number {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration;
      const span = spanOf(fn, source);
      const nested = childSpans(fn);
      found.push({
        file,
        line: lineOf(source, fn.getStart(source)),
        name: nameOf(fn, source),
        ownLines: span - nested,
      });
      return span;
    }
    return childSpans(node);
  }
  function childSpans(node: ts.Node): number {
    let total = 0;
    ts.forEachChild(node, (child) => {
      total += visit(child);
    });
    return total;
  }
  visit(source);
  return found;
}

/** Every function in src/, longest first. */
function functionLengths(): FunctionLength[] {
  return tsFilesUnder('src')
    .flatMap(measureFile)
    .sort((a, b) => b.ownLines - a.ownLines);
}

const describeLine = (f: FunctionLength): string =>
  `${f.file}:${f.line} ${f.name} (${f.ownLines} lines)`;

describe('function length', () => {
  it(`no function in src/ is longer than ${LIMIT} lines of its own`, () => {
    const all = functionLengths();
    const listed = Number(process.env['LIST_FUNCTIONS'] ?? 0);
    for (const f of all.slice(0, listed)) console.log(describeLine(f));
    const tooLong = all.filter((f) => f.ownLines > LIMIT && !ALLOWED.has(`${f.file} ${f.name}`));
    expect(tooLong.map(describeLine)).toEqual([]);
  });

  it('measures a function without the functions nested in it', () => {
    const all = functionLengths();
    expect(all.length).toBeGreaterThan(100);
    expect(all.some((f) => f.file === 'src/config.ts' && f.name === 'loadConfig')).toBe(true);
  });
});
