-- Webhook ordering per field, and whether each applied event's sync was queued.
--
-- 1. `customer_event_marks` gets one mark per field (`name_event_at`, `status_event_at`): an event
--    sets a field only when it is at least as new as the last event that set that field, so a
--    delayed rename is not dropped behind a later status event (CONTRACT.md, HTTP). Existing
--    marks say only "the newest event applied", which may have set either field: both field marks
--    start there, which keeps today's (stricter) behaviour for what was already seen.
--    `last_event_at` / `last_event_id` stay: the newest event applied to the customer, whatever
--    field it set.
-- 2. `webhook_events.queued_at`: when an applied event's sync was queued; null while it was not
--    (Redis hung or down when it arrived). Every daemon re-queues those every few seconds through
--    the partial index, which is empty, so cheap, when nothing is pending. Applied events recorded
--    before this column existed were queued as they came (or found by a sweep since): marked as
--    queued at their arrival, not re-queued.
-- 3. `customer_sync_ingest` applies field by field, and on a duplicate says whether the recorded
--    event still waits for its sync to be queued, so a redelivery queues it.
ALTER TABLE customer_event_marks
  ADD COLUMN IF NOT EXISTS name_event_at timestamptz,
  ADD COLUMN IF NOT EXISTS status_event_at timestamptz;
UPDATE customer_event_marks
  SET name_event_at = last_event_at, status_event_at = last_event_at
  WHERE name_event_at IS NULL AND status_event_at IS NULL;

ALTER TABLE webhook_events ADD COLUMN IF NOT EXISTS queued_at timestamptz;
UPDATE webhook_events SET queued_at = received_at WHERE result = 'applied' AND queued_at IS NULL;
CREATE INDEX IF NOT EXISTS webhook_events_unqueued_idx ON webhook_events (received_at)
  WHERE result = 'applied' AND queued_at IS NULL;

-- The result columns change (a third, `unqueued`), which CREATE OR REPLACE cannot do.
DROP FUNCTION IF EXISTS customer_sync_ingest(text, text, text, text, timestamptz, timestamptz, text, text);
-- See migrations/0002_webhook_ingest_function.sql for why it is VOLATILE, one call, and writes the
-- event id first; the rules are stated at the top of src/webhooks/ingest.ts.
CREATE FUNCTION customer_sync_ingest(
  p_source text,
  p_event_id text,
  p_type text,
  p_customer_id text,
  p_occurred_at timestamptz,
  p_now timestamptz,
  p_name text,
  p_status text,
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

  INSERT INTO webhook_events (source, event_id, type, customer_id, occurred_at, received_at, result)
  VALUES (p_source, p_event_id, p_type, p_customer_id, p_occurred_at, p_now, v_result)
  ON CONFLICT (source, event_id) DO NOTHING;
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
