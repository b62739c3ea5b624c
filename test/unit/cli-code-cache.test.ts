/**
 * Where the CLI keeps V8's code cache, and under what name (src/cli/codeCache.ts); running the
 * bundle through it is tested on the real bundle, test/integration/cli-bundle.test.ts.
 */
import { homedir } from 'node:os';

import { describe, expect, it } from 'vitest';

import { cacheDirectory, cacheFileName } from '../../src/cli/codeCache.js';

const HASH = 'a'.repeat(64);

describe('the CLI code cache', () => {
  it("lives in the user's own cache directory, or nowhere when turned off", () => {
    expect(cacheDirectory({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/op' })).toBe(
      '/x/cache/customer-sync',
    );
    expect(cacheDirectory({ HOME: '/home/op' })).toBe('/home/op/.cache/customer-sync');
    // The XDG spec: a relative path is invalid and ignored (it would follow the working directory).
    expect(cacheDirectory({ XDG_CACHE_HOME: 'cache', HOME: '/home/op' })).toBe(
      '/home/op/.cache/customer-sync',
    );
    expect(cacheDirectory({})).toBe(`${homedir()}/.cache/customer-sync`);
    expect(cacheDirectory({ NODE_DISABLE_COMPILE_CACHE: '1', HOME: '/home/op' })).toBeUndefined();
  });

  it('is named for the bundle, Node, the platform and the command', () => {
    const name = cacheFileName(HASH, ['status', '--json']);
    expect(name).toBe(
      `cli-${'a'.repeat(16)}-node${process.versions.node}-${process.arch}-status.v8`,
    );
    expect(cacheFileName('b'.repeat(64), ['status'])).not.toBe(name);
    expect(cacheFileName(HASH, ['retry-failed'])).toMatch(/-retry-failed\.v8$/);
    // Options only, nothing, or anything that is not a plain command name: one shared name.
    for (const argv of [[], ['--help'], ['../../etc/passwd'], ['Status'], ['x'.repeat(40)]]) {
      expect(cacheFileName(HASH, argv)).toMatch(/-default\.v8$/);
    }
  });
});
