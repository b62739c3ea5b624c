-- Data residency (issue 27): the region a customer's workspace is minted in.
--
-- 1. `customers.region`: `us`, `eu` or a region id (uuid); null = DEFAULT_REGION. No check
--    constraint: other systems write this table directly, and a value that names no region must
--    not refuse their whole write; the sync fails that customer's create visibly instead
--    (src/core/region.ts). Webhooks never write it.
-- 2. `customer_links.region_id`: the region id the workspace was minted in by our create; null
--    when unknown (a workspace adopted by name, or linked before this column: the API's workspace
--    object carries no region). A row whose region differs from it is reported, never acted on.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS region text;
--> statement-breakpoint
ALTER TABLE customer_links ADD COLUMN IF NOT EXISTS region_id uuid;
