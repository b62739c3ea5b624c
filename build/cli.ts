/**
 * The second step of `npm run build`: the operator CLI as one file. tsc compiles src/ to dist/
 * module by module (what the daemon runs); this bundles the CLI from src/cli/main.ts with its
 * dependencies into dist/cli/cli.cjs, so that a command starts without resolving and reading some
 * 700 files one by one (the bench's start-up row measures `status`), and writes the entry,
 * dist/cli/main.js over tsc's, which runs that bundle through V8's code cache
 * (src/cli/codeCache.ts): a command run before starts without compiling it again.
 *
 * The bundle is CommonJS because only a classic script can be handed a code cache on Node 20;
 * ASCII only (comments dropped, licence comments kept apart in cli.cjs.LEGAL.txt) so that reading
 * it is a copy; with no dynamic import of anything outside it (a script run from a cache has no
 * module loader to ask). Commands are still loaded on demand (each dynamic import becomes a lazy
 * initializer), and the bundled packages `require` through Node's own `require`, as they would
 * unbundled (a native addon's optional load included). The bundle stays at dist/cli/, the depth
 * of dist/db/migrate.js, so the migrations folder it finds from its own URL is the same.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { build, type Metafile } from 'esbuild';

export const CLI_ENTRY = 'src/cli/main.ts';
/** The bundle's name beside the entry. */
export const CLI_BUNDLE = 'cli.cjs';

const COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node20.18',
  logLevel: 'warning',
} as const;

/** Bundles the CLI into `outfile`'s folder: the entry at `outfile`, the bundle beside it. */
export async function bundleCli(outfile = 'dist/cli/main.js'): Promise<void> {
  const bundle = join(dirname(outfile), CLI_BUNDLE);
  const result = await build({
    ...COMMON,
    entryPoints: [CLI_ENTRY],
    outfile: bundle,
    format: 'cjs',
    // Whitespace and syntax only: names stay as written, for stack traces and `instanceof` messages.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'external',
    // The one `import.meta` in the CLI's code (the migrations folder, src/db/migrate.ts).
    define: { 'import.meta.url': '__bundleUrl' },
    // Strict, as esbuild makes the bundle (its own "use strict" would follow this line).
    banner: {
      js: `"use strict";var __bundleUrl=require('node:url').pathToFileURL(__filename).href;`,
    },
    metafile: true,
  });
  assertNoDynamicImport(result.metafile);
  // The entry's hashbang belongs to the entry, not inside the CommonJS wrapper.
  const source = (await readFile(bundle, 'latin1')).replace(/^#![^\n]*\n/, '');
  // Read as Latin-1, a byte above 127 is a character from \u0080 to \u00ff.
  if (/[\u0080-\u00ff]/.test(source)) throw new Error(`${bundle}: not ASCII`);
  await writeFile(bundle, source, 'latin1');
  const hash = createHash('sha256').update(source).digest('hex');
  await build({
    ...COMMON,
    stdin: {
      contents: [
        "import { fileURLToPath } from 'node:url';",
        "import { runWithCodeCache } from './codeCache.ts';",
        'runWithCodeCache({',
        `  bundle: fileURLToPath(new URL(${JSON.stringify(`./${CLI_BUNDLE}`)}, import.meta.url)),`,
        `  hash: ${JSON.stringify(hash)},`,
        '  argv: process.argv.slice(2),',
        '  env: process.env,',
        '});',
      ].join('\n'),
      resolveDir: 'src/cli',
      loader: 'ts',
      sourcefile: 'entry.ts',
    },
    outfile,
    format: 'esm',
    banner: { js: '#!/usr/bin/env node' },
  });
  // tsc's source map describes the file this one replaced.
  await rm(`${outfile}.map`, { force: true });
}

/** A dynamic `import()` left in the bundle would need a module loader the cached script lacks. */
function assertNoDynamicImport(metafile: Metafile): void {
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    const left = imports.filter((i) => i.kind === 'dynamic-import' && i.external);
    if (left.length) {
      throw new Error(`${input}: import(${left.map((i) => i.path).join(', ')}) outside the bundle`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundleCli(process.argv[2]);
}
