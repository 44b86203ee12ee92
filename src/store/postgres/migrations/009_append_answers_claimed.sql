-- herald_append answered a row per delivery written: 10,000 rows for a commit that fans an event out to
-- 10,000 pull subscriptions, every one parsed on the publishing process's event loop (issue 13), though it
-- needs only the deliveries it claimed, how many were written, the newest id and whether any were left
-- unclaimed. herald_append_claimed is the same append answering just that: a row per stored event
-- (event_n, seq), a row per claimed delivery (seq, delivery_id, subscription_id), and, when any delivery was
-- written, one summary row (delivery_id: the newest; written; unclaimed). herald_append stays for processes
-- of the previous version during a rolling upgrade.
CREATE FUNCTION herald_append_claimed(
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

  IF claimed_id IS NOT NULL THEN
    RETURN QUERY SELECT NULL::integer, c.seq, c.id, c.subscription, NULL::integer, NULL::integer
      FROM unnest(claimed_seq, claimed_id, claimed_subscription) AS c(seq, id, subscription);
  END IF;
  IF written_count > 0 THEN
    RETURN QUERY SELECT NULL::integer, NULL::bigint, newest, NULL::bigint, written_count, unclaimed_count;
  END IF;

  -- Delivered at commit, to every process: their dispatchers (and pull readers) wake at once. Claimed
  -- deliveries are already on their way, so only the rest are announced.
  IF unclaimed_count > 0 THEN
    PERFORM pg_notify(notify_channel, '');
  END IF;
END;
$$;
