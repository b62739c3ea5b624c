-- Direct writes to customers (by any system) wake the daemons: each changed row's id is sent on
-- the channel customer_sync_changed, and a listening daemon queues that customer's sync. The sweep
-- remains the backstop for anything a notification misses.
CREATE OR REPLACE FUNCTION customer_sync_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('customer_sync.quiet', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('customer_sync_changed', OLD.id);
  ELSE
    PERFORM pg_notify('customer_sync_changed', NEW.id);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS customer_sync_notify ON customers;
--> statement-breakpoint
CREATE TRIGGER customer_sync_notify
AFTER INSERT OR UPDATE OR DELETE ON customers
FOR EACH ROW EXECUTE FUNCTION customer_sync_notify();
