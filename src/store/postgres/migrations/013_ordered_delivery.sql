-- Ordered delivery per key (docs/ordering.md). A push subscription may ask that the events sharing a key (their
-- `subject`, or their `partitionkey`) reach it one at a time, in log order, at most one in flight per key across
-- every Herald process. Set at creation, never changed.
ALTER TABLE subscriptions
  ADD COLUMN ordering text NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'subject', 'partitionkey')),
  -- After a dead letter its key moves on ('skip') or waits until it is redriven ('block').
  ADD COLUMN on_dead_letter text NOT NULL DEFAULT 'skip' CHECK (on_dead_letter IN ('skip', 'block'));
-- Publishing looks for ordered subscriptions among those it fans out to: none, and it does what it did before.
CREATE INDEX subscriptions_ordered ON subscriptions (id) WHERE ordering <> 'none';

-- The key, written with the delivery when its subscription is ordered and the event has the attribute: a 64-bit
-- hash of it (hashtextextended), since an extension attribute may hold 4 KiB and index entries may not. Two keys
-- with one hash are simply ordered together. Null: delivered without ordering, as before.
ALTER TABLE deliveries ADD COLUMN ordering_key bigint;

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

-- Making a key's head is serialised across processes by one transaction-level advisory lock (the append lock is
-- 4_841_001): publishing takes it before it looks whether a new delivery's key is busy, and settling before it
-- looks for a key's next delivery. Each then reads with a snapshot taken after the lock, so it sees what the
-- other committed: a delivery published while its key's head settles is either seen by the settling transaction
-- (and made the head) or sees the head gone (and is due at once), never neither. Only work on ordered
-- subscriptions takes it.

-- Makes each key's next waiting delivery its head, due since it was created, unless the key still has a head or
-- a dead letter that blocks it. One statement for every key a settlement moved on.
CREATE FUNCTION herald_ordered_next(moved_subscriptions bigint[], moved_keys bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  promoted integer;
BEGIN
  PERFORM pg_advisory_xact_lock(4841014);
  WITH moved AS (
    SELECT DISTINCT m.s, m.key FROM unnest(moved_subscriptions, moved_keys) AS m(s, key)
  ), heads AS (
    SELECT (SELECT w.id FROM deliveries w WHERE w.subscription_id = moved.s AND w.ordering_key = moved.key
        AND w.status IN ('pending', 'failed') ORDER BY w.id LIMIT 1) AS id
    FROM moved JOIN subscriptions sub ON sub.id = moved.s
    WHERE NOT EXISTS (SELECT 1 FROM deliveries h WHERE h.subscription_id = moved.s AND h.ordering_key = moved.key
        AND h.status IN ('pending', 'failed') AND h.next_attempt_at IS NOT NULL)
      AND NOT (sub.on_dead_letter = 'block' AND EXISTS (SELECT 1 FROM deliveries x WHERE x.subscription_id = moved.s
        AND x.ordering_key = moved.key AND x.status = 'dead'))
  )
  UPDATE deliveries d SET next_attempt_at = d.created_at FROM heads WHERE d.id = heads.id AND d.next_attempt_at IS NULL;
  GET DIAGNOSTICS promoted = ROW_COUNT;
  RETURN promoted;
END;
$$;

-- Records attempts' outcomes: the statement DeliveryRepository.settleMany runs on SQLite, in a function so that
-- the keys of ordered deliveries that finished (delivered, dead) move on in the same transaction, all at once.
-- Answers each delivery recorded and whether it has a key.
CREATE FUNCTION herald_settle(lease_holder text, outcomes jsonb) RETURNS TABLE (id bigint, ordered boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  settled_id bigint[];
  settled_ordered boolean[];
  moved_subscription bigint[];
  moved_key bigint[];
BEGIN
  -- Tells the row trigger below that this transaction moves its keys on itself, all at once.
  PERFORM set_config('herald.settling', 'on', true);
  WITH outcome AS (
    SELECT (r->>0)::bigint AS id, (r->>1)::text AS status, (r->>2)::integer AS status_code, (r->>3)::text AS error,
      (r->>4)::bigint AS next_attempt_at, (r->>5)::bigint AS delivered_at
    FROM jsonb_array_elements(outcomes) AS r
  ), settled AS (
    UPDATE deliveries SET status = outcome.status, attempts = deliveries.attempts + 1,
      last_status_code = outcome.status_code, last_error = outcome.error,
      next_attempt_at = outcome.next_attempt_at,
      delivered_at = COALESCE(outcome.delivered_at, deliveries.delivered_at),
      lease_owner = NULL, lease_until = NULL
    FROM outcome
    WHERE deliveries.id = outcome.id AND deliveries.lease_owner = lease_holder
    RETURNING deliveries.id, deliveries.subscription_id, deliveries.ordering_key, deliveries.status
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

-- A dead letter redriven, or a waiting or dead row removed (retention, the partition about to be dropped), may
-- let its key's next delivery become the head. Triggers, so this happens in the transaction that redrives or
-- removes, whoever runs it (an owner's request, an operator's command, the retention loop). A delivery that
-- finishes does too, unless herald_settle recorded it (it moves its keys on in one statement): so outcomes
-- recorded by a process of the previous version during a rolling upgrade move keys on as well.
CREATE FUNCTION herald_ordered_moved_on() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  gone deliveries;
BEGIN
  IF TG_OP = 'DELETE' THEN
    gone := OLD;
    -- A deleted subscription's deliveries go with it: nothing to move on to, and no lock to wait for.
    IF NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = gone.subscription_id) THEN
      RETURN NULL;
    END IF;
  ELSE
    gone := NEW;
    IF NEW.status <> 'pending' AND current_setting('herald.settling', true) = 'on' THEN
      RETURN NULL;
    END IF;
  END IF;
  PERFORM herald_ordered_next(ARRAY[gone.subscription_id], ARRAY[gone.ordering_key]);
  RETURN NULL;
END;
$$;

CREATE TRIGGER deliveries_ordered_settled AFTER UPDATE OF status ON deliveries
  FOR EACH ROW
  WHEN (NEW.ordering_key IS NOT NULL AND OLD.status <> NEW.status
    AND (NEW.status IN ('delivered', 'dead') OR OLD.status = 'dead'))
  EXECUTE FUNCTION herald_ordered_moved_on();

CREATE TRIGGER deliveries_ordered_removed AFTER DELETE ON deliveries
  FOR EACH ROW
  WHEN (OLD.ordering_key IS NOT NULL AND OLD.status IN ('pending', 'failed', 'dead'))
  EXECUTE FUNCTION herald_ordered_moved_on();

-- Publishing, as in migration 009, with each ordered subscription's delivery carrying its key. When the batch
-- fans out to no ordered subscription it runs the very statement of 009. Otherwise it takes the ordering lock,
-- and a delivery is due (and may be claimed) only if it is the first of its key in the batch and its key has
-- nothing waiting and no dead letter that blocks it; the others wait, with no next_attempt_at, for
-- herald_settle or the triggers above to make them their key's head. Processes of the previous version call this function too, so they order as this one does.
CREATE OR REPLACE FUNCTION herald_append_claimed(
  lock_key bigint,
  ids text[], sources text[], types text[], resources text[], subjects text[], alternativesubjects text[],
  times timestamptz[], payloads text[],
  fan_event integer[], fan_subscription bigint[], fan_claimed boolean[],
  now_ms bigint, lease_owner text, lease_until bigint, notify_channel text
) RETURNS TABLE (event_n integer, seq bigint, delivery_id bigint, subscription_id bigint, written integer, unclaimed integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  stored_n integer[];
  stored_seq bigint[];
  written_count integer;
  unclaimed_count integer;
  newest bigint;
  claimed_id bigint[];
  claimed_subscription bigint[];
  claimed_seq bigint[];
  ordered boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);

  -- As in herald_append (migration 005): (source, id) is unique in event_keys, which draws the positions in
  -- batch order; only the first of equal (source, id) events in a batch is new.
  WITH input AS (
    SELECT * FROM unnest(ids, sources, types, resources, subjects, alternativesubjects, times, payloads)
      WITH ORDINALITY AS e(id, source, type, resource, subject, alternativesubject, time, payload, n)
  ), firsts AS (
    SELECT DISTINCT ON (input.source, input.id) * FROM input ORDER BY input.source, input.id, input.n
  ), keys AS (
    INSERT INTO event_keys (source, id) SELECT input.source, input.id FROM input ORDER BY input.n
    ON CONFLICT (source, id) DO NOTHING
    RETURNING event_keys.seq, event_keys.source, event_keys.id
  ), written AS (
    INSERT INTO events (seq, id, source, type, resource, subject, alternativesubject, time, payload)
    SELECT keys.seq, f.id, f.source, f.type, f.resource, f.subject, f.alternativesubject, f.time, f.payload::json
    FROM keys JOIN firsts f ON f.source = keys.source AND f.id = keys.id
    RETURNING events.seq, events.source, events.id
  )
  SELECT array_agg(f.n::integer ORDER BY w.seq), array_agg(w.seq ORDER BY w.seq) INTO stored_n, stored_seq
  FROM written w JOIN firsts f ON f.source = w.source AND f.id = w.id;

  IF stored_n IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY SELECT s.n, s.seq, NULL::bigint, NULL::bigint, NULL::integer, NULL::integer
    FROM unnest(stored_n, stored_seq) AS s(n, seq);

  ordered := EXISTS (SELECT 1 FROM subscriptions s WHERE s.ordering <> 'none' AND s.id = ANY(fan_subscription));

  IF NOT ordered THEN
    -- The rule of herald_append: ids in event order; only subscriptions still receiving get a row; a claimed
    -- row is written leased if it is a push delivery the dispatcher may send now. Only claimed rows come back.
    WITH created AS (
      INSERT INTO deliveries (subscription_id, event_seq, status, next_attempt_at, created_at, lease_owner, lease_until)
      SELECT fan.s, stored.seq, 'pending', CASE WHEN sub.endpoint IS NULL THEN NULL ELSE now_ms END, now_ms,
        CASE WHEN fan.c AND sub.endpoint IS NOT NULL AND sub.status = 'active' THEN herald_append_claimed.lease_owner END,
        CASE WHEN fan.c AND sub.endpoint IS NOT NULL AND sub.status = 'active' THEN herald_append_claimed.lease_until END
      FROM unnest(fan_event, fan_subscription, fan_claimed) AS fan(n, s, c)
      JOIN unnest(stored_n, stored_seq) AS stored(n, seq) ON stored.n = fan.n
      JOIN subscriptions sub ON sub.id = fan.s AND sub.status IN ('active', 'inactive')
      ORDER BY stored.seq, fan.s
      RETURNING deliveries.id, deliveries.subscription_id, deliveries.event_seq, deliveries.lease_owner IS NOT NULL AS leased
    )
    SELECT count(*)::integer, (count(*) FILTER (WHERE NOT c.leased))::integer, max(c.id),
      array_agg(c.id ORDER BY c.id) FILTER (WHERE c.leased),
      array_agg(c.subscription_id ORDER BY c.id) FILTER (WHERE c.leased),
      array_agg(c.event_seq ORDER BY c.id) FILTER (WHERE c.leased)
    INTO written_count, unclaimed_count, newest, claimed_id, claimed_subscription, claimed_seq
    FROM created c;
  ELSE
    PERFORM pg_advisory_xact_lock(4841014);
    -- A statement after the lock: its snapshot holds every settlement committed before it was granted.
    WITH fan AS (
      SELECT fan.s, stored.seq, fan.c, sub.endpoint, sub.status, sub.on_dead_letter,
        CASE WHEN sub.endpoint IS NULL THEN NULL
          WHEN sub.ordering = 'subject' THEN hashtextextended(subjects[fan.n], 0)
          WHEN sub.ordering = 'partitionkey' THEN hashtextextended(payloads[fan.n]::json->>'partitionkey', 0)
        END AS key
      FROM unnest(fan_event, fan_subscription, fan_claimed) AS fan(n, s, c)
      JOIN unnest(stored_n, stored_seq) AS stored(n, seq) ON stored.n = fan.n
      JOIN subscriptions sub ON sub.id = fan.s AND sub.status IN ('active', 'inactive')
    ), planned AS (
      SELECT fan.*, fan.key IS NOT NULL AND (
          row_number() OVER (PARTITION BY fan.s, fan.key ORDER BY fan.seq) > 1
          OR EXISTS (SELECT 1 FROM deliveries w WHERE w.subscription_id = fan.s AND w.ordering_key = fan.key
            AND w.status IN ('pending', 'failed'))
          OR (fan.on_dead_letter = 'block' AND EXISTS (SELECT 1 FROM deliveries x WHERE x.subscription_id = fan.s
            AND x.ordering_key = fan.key AND x.status = 'dead'))
        ) AS held
      FROM fan
    ), created AS (
      INSERT INTO deliveries (subscription_id, event_seq, status, next_attempt_at, created_at, lease_owner, lease_until, ordering_key)
      SELECT p.s, p.seq, 'pending', CASE WHEN p.endpoint IS NULL OR p.held THEN NULL ELSE now_ms END, now_ms,
        CASE WHEN p.c AND p.endpoint IS NOT NULL AND p.status = 'active' AND NOT p.held THEN herald_append_claimed.lease_owner END,
        CASE WHEN p.c AND p.endpoint IS NOT NULL AND p.status = 'active' AND NOT p.held THEN herald_append_claimed.lease_until END,
        p.key
      FROM planned p
      ORDER BY p.seq, p.s
      RETURNING deliveries.id, deliveries.subscription_id, deliveries.event_seq, deliveries.lease_owner IS NOT NULL AS leased
    )
    SELECT count(*)::integer, (count(*) FILTER (WHERE NOT c.leased))::integer, max(c.id),
      array_agg(c.id ORDER BY c.id) FILTER (WHERE c.leased),
      array_agg(c.subscription_id ORDER BY c.id) FILTER (WHERE c.leased),
      array_agg(c.event_seq ORDER BY c.id) FILTER (WHERE c.leased)
    INTO written_count, unclaimed_count, newest, claimed_id, claimed_subscription, claimed_seq
    FROM created c;
  END IF;

  IF claimed_id IS NOT NULL THEN
    RETURN QUERY SELECT NULL::integer, c.seq, c.id, c.subscription, NULL::integer, NULL::integer
      FROM unnest(claimed_seq, claimed_id, claimed_subscription) AS c(seq, id, subscription);
  END IF;
  IF written_count > 0 THEN
    RETURN QUERY SELECT NULL::integer, NULL::bigint, newest, NULL::bigint, written_count, unclaimed_count;
  END IF;

  -- Delivered at commit, to every process: their dispatchers (and pull readers) wake at once. Claimed
  -- deliveries are already on their way, so only the rest are announced (a delivery that waits behind its key
  -- among them: one needless lease).
  IF unclaimed_count > 0 THEN
    PERFORM pg_notify(notify_channel, '');
  END IF;
END;
$$;
