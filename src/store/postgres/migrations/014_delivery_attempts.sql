-- Every attempt on record (docs/delivery.md, "Attempts"): one row per webhook attempt, written by herald_settle
-- in the statement that records the delivery's outcome. Partitioned as deliveries are, by delivery id in the
-- same day ranges, so retention drops a day's attempts with its deliveries (retention.ts); deliveries removed
-- row by row (the finished-delivery sweep, a deleted subscription, replays' deliveries) take their attempts with
-- them through the statement trigger below. Not a foreign key: its check, a query per attempt written, cost more
-- than ten times the insert itself, on the settle path that delivery throughput depends on.
CREATE SEQUENCE delivery_attempts_id_seq;
CREATE TABLE delivery_attempts (
  delivery_id bigint NOT NULL,
  id bigint NOT NULL DEFAULT nextval('delivery_attempts_id_seq'),
  -- Epoch ms when the request started, and how long until the answer was read (or the attempt failed).
  started_at bigint NOT NULL,
  duration_ms integer NOT NULL,
  -- An answer: its status, kept headers (a JSON object as text) and the first 4 KiB of its body as text.
  status_code integer,
  response_headers text,
  response_body text,
  body_truncated boolean NOT NULL DEFAULT false,
  -- No answer: why (timeout, refused, dns, tls, reset, blocked, other) and a message.
  error_kind text,
  error text,
  PRIMARY KEY (delivery_id, id)
) PARTITION BY RANGE (delivery_id);

-- One partition of attempts per partition of deliveries, with the same bounds.
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT from_day, to_day FROM herald_partitions ORDER BY from_day LOOP
    IF p.from_day = 0 THEN
      EXECUTE format('CREATE TABLE delivery_attempts_legacy PARTITION OF delivery_attempts FOR VALUES FROM (MINVALUE) TO (%s)',
        p.to_day::bigint * 10000000000);
    ELSE
      EXECUTE format('CREATE TABLE delivery_attempts_p%s PARTITION OF delivery_attempts FOR VALUES FROM (%s) TO (%s)',
        p.from_day, p.from_day::bigint * 10000000000, p.to_day::bigint * 10000000000);
    END IF;
  END LOOP;
END $$;

-- Deliveries deleted go with their attempts, once per statement whatever deletes them (retention's batches, the
-- sweep, a subscription's cascade, a pull queue's cleanup), in the same transaction. Dropped partitions fire no
-- trigger: retention drops the attempts' partition first.
CREATE FUNCTION herald_attempts_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM delivery_attempts a USING gone WHERE a.delivery_id = gone.id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER deliveries_attempts_removed AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION herald_attempts_removed();

-- When a delivery became a dead letter, and the kind of its last failure: what redrive filters on
-- (docs/dead-letters.md). Null for dead letters recorded before this version. No default: no rewrite.
ALTER TABLE deliveries ADD COLUMN dead_at bigint, ADD COLUMN last_error_kind text;

-- A delivered delivery of an ordered key that its owner resends goes back to waiting: like a redriven dead
-- letter it becomes its key's head once nothing else of its key is under way (docs/delivery.md, "Resend").
-- As in 013, with 'delivered' among the statuses a delivery may come back from.
DROP TRIGGER deliveries_ordered_settled ON deliveries;
CREATE TRIGGER deliveries_ordered_settled AFTER UPDATE OF status ON deliveries
  FOR EACH ROW
  WHEN (NEW.ordering_key IS NOT NULL AND OLD.status <> NEW.status
    AND (NEW.status IN ('delivered', 'dead') OR OLD.status IN ('dead', 'delivered')))
  EXECUTE FUNCTION herald_ordered_moved_on();

-- As in 013, and each outcome that carries its attempt (this version's do: fields 8 on) writes the attempt's row
-- in the same statement, so an outcome is never recorded without its attempt or the other way round. Outcomes of
-- a process of the previous version carry none, and are recorded as before. The fields of an outcome (see
-- DeliveryRepository.settleMany): 0 id, 1 status, 2 status code, 3 error, 4 next attempt, 5 delivered at, 6 dead
-- at, 7 the kind of its error; then the attempt's: 8 started at, 9 duration, 10 the answer's status code,
-- 11 headers (a JSON object), 12 body, 13 body truncated, 14 error kind, 15 error.
CREATE OR REPLACE FUNCTION herald_settle(lease_holder text, outcomes jsonb) RETURNS TABLE (id bigint, ordered boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  settled_id bigint[];
  settled_ordered boolean[];
  moved_subscription bigint[];
  moved_key bigint[];
BEGIN
  -- Tells the row trigger of 013 that this transaction moves its keys on itself, all at once.
  PERFORM set_config('herald.settling', 'on', true);
  WITH outcome AS (
    SELECT (r->>0)::bigint AS id, (r->>1)::text AS status, (r->>2)::integer AS status_code, (r->>3)::text AS error,
      (r->>4)::bigint AS next_attempt_at, (r->>5)::bigint AS delivered_at, (r->>6)::bigint AS dead_at,
      (r->>7)::text AS error_kind, (r->>8)::bigint AS started_at, (r->>9)::integer AS duration_ms,
      (r->>10)::integer AS answer_status_code, (r->>11)::text AS response_headers, (r->>12)::text AS response_body,
      COALESCE((r->>13)::boolean, false) AS body_truncated, (r->>14)::text AS attempt_error_kind, (r->>15)::text AS attempt_error
    FROM jsonb_array_elements(outcomes) AS r
  ), settled AS (
    UPDATE deliveries SET status = outcome.status, attempts = deliveries.attempts + 1,
      last_status_code = outcome.status_code, last_error = outcome.error, last_error_kind = outcome.error_kind,
      next_attempt_at = outcome.next_attempt_at,
      delivered_at = COALESCE(outcome.delivered_at, deliveries.delivered_at),
      dead_at = outcome.dead_at,
      lease_owner = NULL, lease_until = NULL
    FROM outcome
    WHERE deliveries.id = outcome.id AND deliveries.lease_owner = lease_holder
    -- The attempt's fields come back with the row, so the outcomes are read once (and inlined), not joined again.
    RETURNING deliveries.id, deliveries.subscription_id, deliveries.ordering_key, deliveries.status,
      outcome.started_at, outcome.duration_ms, outcome.answer_status_code, outcome.response_headers,
      outcome.response_body, outcome.body_truncated, outcome.attempt_error_kind, outcome.attempt_error
  ), attempted AS (
    INSERT INTO delivery_attempts (delivery_id, started_at, duration_ms, status_code, response_headers, response_body,
      body_truncated, error_kind, error)
    SELECT s.id, s.started_at, s.duration_ms, s.answer_status_code, s.response_headers, s.response_body, s.body_truncated,
      s.attempt_error_kind, s.attempt_error
    FROM settled s
    WHERE s.started_at IS NOT NULL
  )
  SELECT array_agg(s.id), array_agg(s.ordering_key IS NOT NULL),
    array_agg(s.subscription_id) FILTER (WHERE s.ordering_key IS NOT NULL AND s.status IN ('delivered', 'dead')),
    array_agg(s.ordering_key) FILTER (WHERE s.ordering_key IS NOT NULL AND s.status IN ('delivered', 'dead'))
  INTO settled_id, settled_ordered, moved_subscription, moved_key
  FROM settled s;
  IF moved_key IS NOT NULL THEN
    PERFORM herald_ordered_next(moved_subscription, moved_key);
  END IF;
  IF settled_id IS NOT NULL THEN
    RETURN QUERY SELECT * FROM unnest(settled_id, settled_ordered);
  END IF;
END;
$$;
