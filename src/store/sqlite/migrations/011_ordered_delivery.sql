-- Ordered delivery per key (docs/ordering.md). A push subscription may ask that the events sharing a key (their
-- `subject`, or their `partitionkey`) reach it one at a time, in log order. Set at creation, never changed.
ALTER TABLE subscriptions ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none'
  CHECK (ordering IN ('none', 'subject', 'partitionkey'));
-- After a dead letter its key moves on ('skip') or waits until it is redriven ('block').
ALTER TABLE subscriptions ADD COLUMN on_dead_letter TEXT NOT NULL DEFAULT 'skip'
  CHECK (on_dead_letter IN ('skip', 'block'));

-- The key, written with the delivery when its subscription is ordered and the event has the attribute (the
-- text itself here; PostgreSQL keeps a hash). Null: delivered without ordering, as before.
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;

-- Of each key's waiting deliveries (pending or retrying) only one is ever due, its head: the others wait with
-- no next_attempt_at, out of the due index, so leases stay as they were and never walk over a key's backlog.
-- The rows of a key in log order (delivery ids follow the log), to find what comes next.
CREATE INDEX deliveries_ordered_waiting ON deliveries (subscription_id, ordering_key, id)
  WHERE ordering_key IS NOT NULL AND status IN ('pending', 'failed');
-- Each key's head, at most one.
CREATE INDEX deliveries_ordered_head ON deliveries (subscription_id, ordering_key)
  WHERE ordering_key IS NOT NULL AND status IN ('pending', 'failed') AND next_attempt_at IS NOT NULL;
-- Dead letters of ordered keys: with 'block', one stops its key.
CREATE INDEX deliveries_ordered_dead ON deliveries (subscription_id, ordering_key)
  WHERE ordering_key IS NOT NULL AND status = 'dead';

-- When a head leaves the waiting statuses (delivered, dead), a dead letter is redriven, or a waiting or dead
-- row is removed (retention, a deleted subscription), the key's next waiting delivery becomes its head: due
-- since it was created, unless the key still has a head or a blocking dead letter. A trigger, so this happens
-- in the statement that settles, redrives or removes, whoever runs it (the dispatcher, an operator's command,
-- the retention loop) and cannot be left undone by a crash between two statements. One writer at a time, so
-- no two of these can interleave.
CREATE TRIGGER deliveries_ordered_settled AFTER UPDATE OF status ON deliveries
  WHEN NEW.ordering_key IS NOT NULL AND OLD.status <> NEW.status
    AND (NEW.status IN ('delivered', 'dead') OR OLD.status = 'dead')
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

-- A deleted subscription's deliveries go with it: nothing to move on to.
CREATE TRIGGER deliveries_ordered_removed AFTER DELETE ON deliveries
  WHEN OLD.ordering_key IS NOT NULL AND OLD.status IN ('pending', 'failed', 'dead')
    AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = OLD.subscription_id)
BEGIN
  UPDATE deliveries SET next_attempt_at = created_at
  WHERE id = (
      SELECT min(w.id) FROM deliveries w
      WHERE w.subscription_id = OLD.subscription_id AND w.ordering_key = OLD.ordering_key
        AND w.status IN ('pending', 'failed'))
    AND next_attempt_at IS NULL
    AND NOT EXISTS (
      SELECT 1 FROM deliveries h
      WHERE h.subscription_id = OLD.subscription_id AND h.ordering_key = OLD.ordering_key
        AND h.status IN ('pending', 'failed') AND h.next_attempt_at IS NOT NULL)
    AND NOT EXISTS (
      SELECT 1 FROM subscriptions s
      WHERE s.id = OLD.subscription_id AND s.on_dead_letter = 'block'
        AND EXISTS (
          SELECT 1 FROM deliveries x
          WHERE x.subscription_id = OLD.subscription_id AND x.ordering_key = OLD.ordering_key AND x.status = 'dead'));
END;
