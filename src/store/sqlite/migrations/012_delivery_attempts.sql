-- Every attempt on record (docs/delivery.md, "Attempts"): one row per webhook attempt, written in the statement
-- batch that records the delivery's outcome. They go with their delivery, whatever removes it (retention, the
-- finished-delivery sweep, a deleted subscription): a cascade.
CREATE TABLE delivery_attempts (
  id INTEGER PRIMARY KEY,
  delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  -- Epoch ms when the request started, and how long until the answer was read (or the attempt failed).
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  -- An answer: its status, kept headers (a JSON object) and the first 4 KiB of its body as text.
  status_code INTEGER,
  response_headers TEXT,
  response_body TEXT,
  body_truncated INTEGER NOT NULL DEFAULT 0,
  -- No answer: why (timeout, refused, dns, tls, reset, blocked, other) and a message.
  error_kind TEXT,
  error TEXT
);
-- A delivery's attempts in order; also what the cascade looks rows up by.
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- When a delivery became a dead letter, and the kind of its last failure: what redrive filters on
-- (docs/dead-letters.md). Null for dead letters recorded before this version.
ALTER TABLE deliveries ADD COLUMN dead_at INTEGER;
ALTER TABLE deliveries ADD COLUMN last_error_kind TEXT;

-- A delivered delivery of an ordered key that its owner resends goes back to waiting: like a redriven dead
-- letter it becomes its key's head once nothing else of its key is under way (docs/delivery.md, "Resend").
-- As in 011, with 'delivered' among the statuses a delivery may come back from.
DROP TRIGGER deliveries_ordered_settled;
CREATE TRIGGER deliveries_ordered_settled AFTER UPDATE OF status ON deliveries
  WHEN NEW.ordering_key IS NOT NULL AND OLD.status <> NEW.status
    AND (NEW.status IN ('delivered', 'dead') OR OLD.status IN ('dead', 'delivered'))
BEGIN
  UPDATE deliveries SET next_attempt_at = created_at
  WHERE id = (
      SELECT min(w.id) FROM deliveries w
      WHERE w.subscription_id = NEW.subscription_id AND w.ordering_key = NEW.ordering_key
        AND w.status IN ('pending', 'failed'))
    AND next_attempt_at IS NULL
    AND NOT EXISTS (
      SELECT 1 FROM deliveries h
      WHERE h.subscription_id = NEW.subscription_id AND h.ordering_key = NEW.ordering_key
        AND h.status IN ('pending', 'failed') AND h.next_attempt_at IS NOT NULL)
    AND NOT EXISTS (
      SELECT 1 FROM subscriptions s
      WHERE s.id = NEW.subscription_id AND s.on_dead_letter = 'block'
        AND EXISTS (
          SELECT 1 FROM deliveries x
          WHERE x.subscription_id = NEW.subscription_id AND x.ordering_key = NEW.ordering_key AND x.status = 'dead'));
END;
