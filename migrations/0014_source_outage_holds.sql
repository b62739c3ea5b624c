-- Why a change was held: `limit` (the mass-change limit, a sweep's or the rolling window's), or
-- `source-empty` / `source-shrank` (the customers source returned no rows, or far fewer than
-- before, while workspaces were linked: an outage until a person says otherwise).
ALTER TABLE "holds" ADD COLUMN IF NOT EXISTS "reason" text DEFAULT 'limit' NOT NULL;--> statement-breakpoint
-- The size of the customers source last accepted: by a complete sweep that found no outage, or
-- by a person approving a change the outage held. The destructive gate compares the source's
-- current size with it (src/sync/destructive.ts). One row.
CREATE TABLE IF NOT EXISTS "source_size" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL CHECK ("singleton"),
	"row_count" bigint NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"accepted_by" text NOT NULL
);
