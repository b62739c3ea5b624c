-- A sweep's planned changes count as admitted by the destructive gate only once the sweep has
-- committed its hold decision (decided_at), and a create it planned is known to be for a name
-- that its complete listing did not show (listing_complete).
ALTER TABLE "sweeps" ADD COLUMN IF NOT EXISTS "listing_complete" boolean;--> statement-breakpoint
ALTER TABLE "sweeps" ADD COLUMN IF NOT EXISTS "decided_at" timestamp with time zone;--> statement-breakpoint
-- Sweeps that finished before this migration had decided.
UPDATE "sweeps" SET "decided_at" = "finished_at" WHERE "decided_at" IS NULL AND "finished_at" IS NOT NULL;
