-- A mint is get-or-create by name, and only the call after it (scoped-token info) tells the new
-- workspace's id. When that answer is lost (a failure, a killed daemon) and the customer is then
-- renamed, minting under the new name would leave the first workspace behind, linked to nobody.
-- The name is remembered here before every mint and forgotten when the link is stored, so a later
-- create for the same customer first looks for the workspace under that name (src/sync/changes.ts).
CREATE TABLE IF NOT EXISTS "pending_mints" (
	"customer_id" text PRIMARY KEY NOT NULL,
	"workspace_name" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
