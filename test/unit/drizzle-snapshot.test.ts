/**
 * The drizzle snapshot is current: `drizzle-kit generate` on this checkout writes nothing (run on
 * a copy of migrations/, no database needed). Its failure names the fix.
 */
import { describe, expect, it } from 'vitest';

import { pendingMigration, SNAPSHOT_COMMAND } from '../../build/drizzle-snapshot.js';

describe('drizzle snapshot', () => {
  it(
    'drizzle-kit generate writes no migration from a clean checkout',
    { timeout: 60_000 },
    async () => {
      const { sql, snapshot } = await pendingMigration();
      expect(
        sql,
        `drizzle-kit generate would write a migration: src/db/schema.ts is not what the newest ` +
          `snapshot in migrations/meta/ says. Write the SQL migration by hand if there is none ` +
          `(docs/architecture.md, "Adding a migration"), then run \`${SNAPSHOT_COMMAND}\``,
      ).toBe('');
      expect(snapshot).toBeUndefined();
    },
  );
});
