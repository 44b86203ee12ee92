-- One round trip per append (docs/performance.md). A publish commit used to be four: BEGIN with the append
-- lock, the events, their deliveries, COMMIT. Under load each round trip waits for the database backend and
-- for Herald's busy event loop, and appends are serialised by the lock, so those waits bounded how many
-- events a second one database could take (measured: 4.7 ms per commit, of which 0.8 ms was the COMMIT).
-- Called as one statement outside a transaction block, the function is its own transaction: it takes the
-- append lock first, writes, and the lock is released only after the commit is durable, so positions are
-- still committed in order. Called inside a transaction (tests hold one open before COMMIT), it takes part
-- in that transaction. plpgsql keeps its statements' plans for the connection, so they are planned once.
--
-- Input: the events as parallel arrays, in batch order; the fan-out as parallel arrays naming an event by
-- its 1-based place in the batch, a subscription, and whether the publishing process claims the delivery
-- (DeliveryClaim: written leased to `lease_owner` until `lease_until`). Output: a row per stored event
-- (event_n, seq), then a row per written delivery (seq, delivery_id, subscription_id, claimed).
CREATE FUNCTION herald_append(
  lock_key bigint,
  ids text[], sources text[], types text[], resources text[], subjects text[], alternativesubjects text[],
  times timestamptz[], payloads text[],
  fan_event integer[], fan_subscription bigint[], fan_claimed boolean[],
  now_ms bigint, lease_owner text, lease_until bigint, notify_channel text
) RETURNS TABLE (event_n integer, seq bigint, delivery_id bigint, subscription_id bigint, claimed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  stored_n integer[];
  stored_seq bigint[];
  created_id bigint[];
  created_subscription bigint[];
  created_seq bigint[];
  created_leased boolean[];
  unclaimed boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);

  -- (source, id) is unique in event_keys, which also draws the positions, in batch order; only the first
  -- of equal (source, id) events in a batch is new.
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
  RETURN QUERY SELECT s.n, s.seq, NULL::bigint, NULL::bigint, NULL::boolean FROM unnest(stored_n, stored_seq) AS s(n, seq);

  -- Ids in event order: a pull subscription's queue is read in id order, and must be in commit order. Pull
  -- rows are never due for the dispatcher. Only subscriptions still receiving get a row (an inactive pull
  -- subscription's queue keeps filling): an index a moment stale (a DELETE another process has not
  -- announced yet) must not fail a publish. A claimed row is written leased, if it is a push delivery the
  -- dispatcher may send now: the subscription is active with an endpoint.
  WITH created AS (
    INSERT INTO deliveries (subscription_id, event_seq, status, next_attempt_at, created_at, lease_owner, lease_until)
    SELECT fan.s, stored.seq, 'pending', CASE WHEN sub.endpoint IS NULL THEN NULL ELSE now_ms END, now_ms,
      CASE WHEN fan.c AND sub.endpoint IS NOT NULL AND sub.status = 'active' THEN herald_append.lease_owner END,
      CASE WHEN fan.c AND sub.endpoint IS NOT NULL AND sub.status = 'active' THEN herald_append.lease_until END
    FROM unnest(fan_event, fan_subscription, fan_claimed) AS fan(n, s, c)
    JOIN unnest(stored_n, stored_seq) AS stored(n, seq) ON stored.n = fan.n
    JOIN subscriptions sub ON sub.id = fan.s AND sub.status IN ('active', 'inactive')
    ORDER BY stored.seq, fan.s
    RETURNING deliveries.id, deliveries.subscription_id, deliveries.event_seq, deliveries.lease_owner IS NOT NULL AS leased
  )
  SELECT array_agg(c.id ORDER BY c.id), array_agg(c.subscription_id ORDER BY c.id), array_agg(c.event_seq ORDER BY c.id),
    array_agg(c.leased ORDER BY c.id), bool_or(NOT c.leased)
  INTO created_id, created_subscription, created_seq, created_leased, unclaimed
  FROM created c;

  RETURN QUERY SELECT NULL::integer, c.seq, c.id, c.subscription, c.leased
    FROM unnest(created_seq, created_id, created_subscription, created_leased) AS c(seq, id, subscription, leased);

  -- Delivered at commit, to every process: their dispatchers (and pull readers) wake at once. Claimed
  -- deliveries are already on their way, so only the rest are announced.
  IF unclaimed THEN
    PERFORM pg_notify(notify_channel, '');
  END IF;
END;
$$;
