-- Leases with an expiry (src/sql/leases.ts). The sweep lock becomes one: a daemon that vanishes
-- without closing its connections (SIGSTOP, a lost VM) no longer blocks sweeps for as long as the
-- server keeps its session; the lease lapses after LOCK_DURATION unless renewed. The daily
-- retention job takes one for a day, so one daemon a day runs it.
CREATE TABLE IF NOT EXISTS "leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
-- A btree entry holds about 2,700 bytes, so a long name (a direct write, or any name the API
-- allows) made inserts fail. A hash index stores a 4-byte hash of any length and answers the
-- equality lookups the planner makes (who wants this workspace name).
DROP INDEX IF EXISTS "customers_name_idx";
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "customers_name_hash_idx" ON "customers" USING hash ("name");
--> statement-breakpoint
-- The daily retention job deletes audit rows by age.
CREATE INDEX IF NOT EXISTS "audit_at_idx" ON "audit" USING btree ("at");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sync_state_at_idx" ON "sync_state" USING btree ("at");
