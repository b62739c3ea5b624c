/**
 * The second step of `npm run build`: the operator CLI as one file. tsc compiles src/ to dist/
 * module by module (what the daemon runs); this bundles the CLI from src/cli/main.ts with its
 * dependencies into dist/cli/main.js, over tsc's, so that a command starts without resolving and
 * reading some 700 files one by one (the bench's start-up row measures `status`).
 *
 * The bundle stays at dist/cli/, the depth of dist/db/migrate.js, so the migrations folder it
 * finds from its own URL is the same. Commands are still loaded on demand (each dynamic import
 * becomes a lazy initializer), and the bundled CommonJS packages `require` through Node's own
 * `createRequire`, as they would unbundled (a native addon's optional load included).
 */
import { rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

import { build } from 'esbuild';

export const CLI_ENTRY = 'src/cli/main.ts';

export async function bundleCli(outfile = 'dist/cli/main.js'): Promise<void> {
  await build({
    entryPoints: [CLI_ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.18',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  // tsc's source map describes the file this one replaced.
  await rm(`${outfile}.map`, { force: true });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundleCli(process.argv[2]);
}
