-- Ingesting one webhook event that changes a customer, in one round trip (DESIGN.md §8; the rules
-- are stated at the top of src/webhooks/ingest.ts). Called as one `select` outside BEGIN/COMMIT,
-- so the call is its own transaction: the advisory lock and `customer_sync.quiet` end with it.
--
-- VOLATILE (the default) on purpose: each statement below then takes a fresh snapshot, so the mark
-- read after the advisory lock is granted includes what the previous holder committed.
--
-- Every path reads and locks before it writes, and the event id is the first thing written: a
-- duplicate (ON CONFLICT DO NOTHING inserts nothing) returns before anything else is touched, so
-- it leaves no trace. A concurrent delivery of the same id waits on the unique key until the first
-- commits, as before.
CREATE OR REPLACE FUNCTION customer_sync_ingest(
  p_source text,
  p_event_id text,
  p_type text,
  p_customer_id text,
  p_occurred_at timestamptz,
  p_now timestamptz,
  p_name text,
  p_status text,
  OUT outcome text,
  OUT reason text
)
LANGUAGE plpgsql AS $$
DECLARE
  v_last timestamptz;
  v_result text;
BEGIN
  -- The same key as lockCustomerEvents in src/sql/customerEvents.ts: "later delivery" means
  -- "took this lock later", whether or not the customer's row or mark exists yet.
  PERFORM pg_advisory_xact_lock(hashtext('customer-sync:customer-events'), hashtext(p_customer_id));
  SELECT m.last_event_at INTO v_last FROM customer_event_marks m WHERE m.customer_id = p_customer_id;
  IF v_last IS NOT NULL AND p_occurred_at < v_last THEN
    v_result := 'stale';
  ELSE
    -- Locked so no one deletes the row before it is written.
    PERFORM 1 FROM customers c WHERE c.id = p_customer_id FOR UPDATE;
    IF NOT FOUND AND p_name IS NULL THEN
      v_result := 'ignored';
      reason := 'unknown customer and no name';
    ELSE
      v_result := 'applied';
    END IF;
  END IF;

  INSERT INTO webhook_events (source, event_id, type, customer_id, occurred_at, received_at, result)
  VALUES (p_source, p_event_id, p_type, p_customer_id, p_occurred_at, p_now, v_result)
  ON CONFLICT (source, event_id) DO NOTHING;
  IF NOT FOUND THEN
    outcome := 'duplicate';
    reason := NULL;
    RETURN;
  END IF;
  outcome := v_result;
  IF v_result <> 'applied' THEN
    RETURN;
  END IF;

  -- This path queues the customer's sync itself (trigger `webhook`): keep the direct-write
  -- notification trigger quiet, for this transaction only, so the audit names the webhook.
  PERFORM set_config('customer_sync.quiet', 'on', true);
  IF p_name IS NOT NULL THEN
    -- The upsert also covers a row another system inserted since the lock above looked.
    INSERT INTO customers AS c (id, name, status, created_at, updated_at)
    VALUES (p_customer_id, p_name, coalesce(p_status, 'active'), p_now, p_now)
    ON CONFLICT (id) DO UPDATE
      SET name = excluded.name, status = coalesce(p_status, c.status), updated_at = p_now;
  ELSE
    UPDATE customers c SET status = coalesce(p_status, c.status), updated_at = p_now
    WHERE c.id = p_customer_id;
  END IF;
  INSERT INTO customer_event_marks AS m (customer_id, last_event_at, last_event_id)
  VALUES (p_customer_id, p_occurred_at, p_event_id)
  ON CONFLICT (customer_id) DO UPDATE
    SET last_event_at = excluded.last_event_at, last_event_id = excluded.last_event_id;
END
$$;
