-- Two defences of the webhook routes against what an outsider controls (issue 25).
--
-- 1. `webhook_events.body_digest`: the SHA-256 of a delivery's signed bytes (its raw body). Unique
--    per route (`source`), so a body already accepted is a duplicate whatever new id it comes
--    under: Lago signs neither its `X-Lago-Unique-Key` nor a time, so a captured delivery re-sent
--    under a new key would otherwise be applied again. The digest lives on the event's row, so it
--    is kept exactly as long as the event id (pruned with it). Rows recorded before this column
--    have none (NULLs never conflict).
-- 2. `vendor_customers`: which of our customers a billing system's own customer id is (Paddle's
--    `ctm_…`), as learned from events whose id for us comes from a field only the merchant's API
--    can set (a Paddle customer's `custom_data`). A subscription event, whose `custom_data` the
--    buyer writes at checkout, is resolved through it and never writes it
--    (src/webhooks/vendorIdentity.ts). Ordered by the teaching event's time: an older customer
--    event does not move the mapping back. Kept for good: it is identity, not event history.
-- 3. `customer_sync_ingest` records the digest with the event; its new parameter defaults to NULL,
--    so a daemon still running the previous code keeps working during a rolling upgrade.
ALTER TABLE webhook_events ADD COLUMN IF NOT EXISTS body_digest bytea;
CREATE UNIQUE INDEX IF NOT EXISTS webhook_events_body_digest_key
  ON webhook_events (source, body_digest);

CREATE TABLE IF NOT EXISTS vendor_customers (
  source text NOT NULL,
  vendor_customer_id text NOT NULL,
  customer_id text NOT NULL,
  event_id text NOT NULL,
  occurred_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (source, vendor_customer_id)
);

-- A new parameter is a new signature: the old one goes, or an 8-argument call would be ambiguous.
DROP FUNCTION IF EXISTS customer_sync_ingest(text, text, text, text, timestamptz, timestamptz, text, text);
-- See migrations/0002 and 0005 for why it is VOLATILE, one call, and writes the event id first.
CREATE FUNCTION customer_sync_ingest(
  p_source text,
  p_event_id text,
  p_type text,
  p_customer_id text,
  p_occurred_at timestamptz,
  p_now timestamptz,
  p_name text,
  p_status text,
  p_body_digest bytea DEFAULT NULL,
  OUT outcome text,
  OUT reason text,
  OUT unqueued boolean
)
LANGUAGE plpgsql AS $$
DECLARE
  v_name_at timestamptz;
  v_status_at timestamptz;
  v_set_name boolean;
  v_set_status boolean;
  v_status text;
  v_inserted boolean := false;
  v_result text;
BEGIN
  unqueued := false;
  -- The same key as before: "later delivery" means "took this lock later".
  PERFORM pg_advisory_xact_lock(hashtext('customer-sync:customer-events'), hashtext(p_customer_id));
  SELECT m.name_event_at, m.status_event_at INTO v_name_at, v_status_at
    FROM customer_event_marks m WHERE m.customer_id = p_customer_id;
  -- Per field: at least as new as the last event that set it (equal: the later delivery wins).
  v_set_name := p_name IS NOT NULL AND (v_name_at IS NULL OR p_occurred_at >= v_name_at);
  v_set_status := p_status IS NOT NULL AND (v_status_at IS NULL OR p_occurred_at >= v_status_at);
  v_status := CASE WHEN v_set_status THEN p_status END;
  IF NOT (v_set_name OR v_set_status) THEN
    v_result := 'stale';
  ELSE
    -- Locked so no one deletes the row before it is written.
    PERFORM 1 FROM customers c WHERE c.id = p_customer_id FOR UPDATE;
    IF NOT FOUND AND NOT v_set_name THEN
      v_result := 'ignored';
      reason := 'unknown customer and no name';
    ELSE
      v_result := 'applied';
    END IF;
  END IF;

  -- No conflict target: a repeated event id and a repeated body digest are both duplicates.
  INSERT INTO webhook_events
    (source, event_id, type, customer_id, occurred_at, received_at, result, body_digest)
  VALUES (p_source, p_event_id, p_type, p_customer_id, p_occurred_at, p_now, v_result, p_body_digest)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    outcome := 'duplicate';
    reason := NULL;
    SELECT e.result = 'applied' AND e.queued_at IS NULL INTO unqueued
      FROM webhook_events e WHERE e.source = p_source AND e.event_id = p_event_id;
    unqueued := coalesce(unqueued, false);
    RETURN;
  END IF;
  outcome := v_result;
  IF v_result <> 'applied' THEN
    RETURN;
  END IF;

  -- This path queues the customer's sync itself (trigger `webhook`): keep the direct-write
  -- notification trigger quiet, for this transaction only, so the audit names the webhook.
  PERFORM set_config('customer_sync.quiet', 'on', true);
  IF v_set_name THEN
    -- The upsert also covers a row another system inserted since the lock above looked.
    INSERT INTO customers AS c (id, name, status, created_at, updated_at)
    VALUES (p_customer_id, p_name, coalesce(v_status, 'active'), p_now, p_now)
    ON CONFLICT (id) DO UPDATE
      SET name = excluded.name, status = coalesce(v_status, c.status), updated_at = p_now
    RETURNING (xmax = 0) INTO v_inserted;
  ELSE
    UPDATE customers c SET status = v_status, updated_at = p_now WHERE c.id = p_customer_id;
  END IF;
  -- A row this event creates gets its status from it too ('active' when it names none), so an
  -- older status event must not overwrite that.
  INSERT INTO customer_event_marks AS m
    (customer_id, last_event_at, last_event_id, name_event_at, status_event_at)
  VALUES (
    p_customer_id, p_occurred_at, p_event_id,
    CASE WHEN v_set_name THEN p_occurred_at END,
    CASE WHEN v_set_status OR v_inserted THEN p_occurred_at END
  )
  ON CONFLICT (customer_id) DO UPDATE SET
    last_event_id = CASE WHEN excluded.last_event_at >= m.last_event_at
                         THEN excluded.last_event_id ELSE m.last_event_id END,
    last_event_at = greatest(m.last_event_at, excluded.last_event_at),
    name_event_at = greatest(excluded.name_event_at, m.name_event_at),
    status_event_at = greatest(excluded.status_event_at, m.status_event_at);
END
$$;
