-- The customers may live in a table or view of the user's (CUSTOMERS_SOURCE), not only in ours.
--
-- 1. Links no longer rely on a foreign key to `customers`: a link whose customer left the source
--    (deleted, or filtered out of a view) reads as a deleted customer, so its workspace goes
--    through the grace period and the mass-change gate, never an instant cascade. Existing links
--    all have their customer (the key guaranteed it), so nothing changes for them.
ALTER TABLE customer_links DROP CONSTRAINT IF EXISTS customer_links_customer_id_customers_id_fk;
--> statement-breakpoint
-- 2. The change trigger for the user's base tables (CUSTOMERS_NOTIFY_TABLES), which `migrate`
--    installs on each: the same channel as our own table's trigger (0001), the id read from the
--    column named by the trigger's argument. An update that changes the id notifies both ids.
CREATE OR REPLACE FUNCTION customer_sync_notify_column() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_old text;
  v_new text;
BEGIN
  IF coalesce(current_setting('customer_sync.quiet', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    v_old := to_jsonb(OLD) ->> TG_ARGV[0];
  END IF;
  IF TG_OP <> 'DELETE' THEN
    v_new := to_jsonb(NEW) ->> TG_ARGV[0];
  END IF;
  IF v_new IS NOT NULL THEN
    PERFORM pg_notify('customer_sync_changed', v_new);
  END IF;
  IF v_old IS NOT NULL AND v_old IS DISTINCT FROM v_new THEN
    PERFORM pg_notify('customer_sync_changed', v_old);
  END IF;
  RETURN NULL;
END
$$;
