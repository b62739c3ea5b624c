-- The change triggers run inside the user's own writes (our `customers` table, and the tables of
-- CUSTOMERS_NOTIFY_TABLES): they must never make one fail, nor cost a sync for a write that
-- changes nothing synced. Only the functions change here (CREATE OR REPLACE FUNCTION takes no
-- lock on any table): the triggers calling them stay as they are.
--
-- customer_sync_send: sends one id, or nothing when no notification could carry it.
--   - NULL: nothing to name.
--   - 8,000 bytes or more: NOTIFY refuses such a payload ("payload string too long"), which would
--     fail the user's INSERT. The sweep finds that row.
--   - the notification queue more than half full (a listener stuck in a long transaction): a
--     full queue fails the user's COMMIT ("too many notifications in the NOTIFY queue"), which no
--     trigger can catch, so the trigger stops sending well before. The sweep finds those rows.
--   pg_notify raises nothing else here (its other errors are about the channel's name, which is
--   ours, or a parallel worker, where no trigger runs). No EXCEPTION block "just in case": it
--   opens a subtransaction per row, which made a bulk UPDATE four times slower.
CREATE OR REPLACE FUNCTION customer_sync_send(p_id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_id IS NULL OR octet_length(p_id) >= 8000 OR pg_notification_queue_usage() > 0.5 THEN
    RETURN;
  END IF;
  PERFORM pg_notify('customer_sync_changed', p_id);
END
$$;
--> statement-breakpoint
-- customer_sync_differs: whether an UPDATE changed any of `p_columns` (compared as the text of
-- their JSON, so a column of a type without equality, json or point, compares too); with no
-- columns, whether it changed anything at all.
CREATE OR REPLACE FUNCTION customer_sync_differs(p_old jsonb, p_new jsonb, p_columns text[])
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  v_column text;
BEGIN
  IF coalesce(cardinality(p_columns), 0) = 0 THEN
    RETURN p_old::text IS DISTINCT FROM p_new::text;
  END IF;
  FOREACH v_column IN ARRAY p_columns LOOP
    IF (p_old ->> v_column) IS DISTINCT FROM (p_new ->> v_column) THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END
$$;
--> statement-breakpoint
-- Our own `customers` (0001): an UPDATE notifies only when a column a sync reads changed (a
-- `last_seen` touched on every login sends nothing); one that changes the id notifies both ids.
-- Columns are read through JSON: a pre-existing `customers` of the user's may lack some of them.
CREATE OR REPLACE FUNCTION customer_sync_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_old jsonb;
  v_new jsonb;
BEGIN
  IF coalesce(current_setting('customer_sync.quiet', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM customer_sync_send(OLD.id::text);
  ELSIF TG_OP = 'INSERT' THEN
    PERFORM customer_sync_send(NEW.id::text);
  ELSE
    v_old := to_jsonb(OLD);
    v_new := to_jsonb(NEW);
    IF customer_sync_differs(v_old, v_new,
                             ARRAY['id', 'name', 'status', 'created_at', 'region']) THEN
      PERFORM customer_sync_send(v_new ->> 'id');
      IF (v_old ->> 'id') IS DISTINCT FROM (v_new ->> 'id') THEN
        PERFORM customer_sync_send(v_old ->> 'id');
      END IF;
    END IF;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- The user's base tables (0011): TG_ARGV[0] is the id column; TG_ARGV[1..] are the columns the
-- source reads of that table (`migrate` finds them in the catalog: what the view selects,
-- filters and joins on). An UPDATE that changes none of them sends nothing. With no such list (a
-- trigger installed by an older version, or a view that reads the table in a way the catalog
-- cannot narrow down), any change to the row notifies.
CREATE OR REPLACE FUNCTION customer_sync_notify_column() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_old jsonb;
  v_new jsonb;
  v_old_id text;
  v_new_id text;
BEGIN
  IF coalesce(current_setting('customer_sync.quiet', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    v_old := to_jsonb(OLD);
    v_old_id := v_old ->> TG_ARGV[0];
  END IF;
  IF TG_OP <> 'DELETE' THEN
    v_new := to_jsonb(NEW);
    v_new_id := v_new ->> TG_ARGV[0];
  END IF;
  IF TG_OP = 'UPDATE' AND v_old_id IS NOT DISTINCT FROM v_new_id
     AND NOT customer_sync_differs(v_old, v_new, TG_ARGV[1:TG_NARGS - 1]) THEN
    RETURN NULL;
  END IF;
  PERFORM customer_sync_send(v_new_id);
  IF v_old_id IS DISTINCT FROM v_new_id THEN
    PERFORM customer_sync_send(v_old_id);
  END IF;
  RETURN NULL;
END
$$;
