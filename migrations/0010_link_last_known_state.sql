-- The link remembers the workspace's last-known state (its name is already there): a sync whose
-- customer is in step with it makes no API call. `missing`: a complete listing or an answer said
-- it is gone; null: unknown (links made before this migration), read once by id.
ALTER TABLE "customer_links" ADD COLUMN IF NOT EXISTS "workspace_status" text;
