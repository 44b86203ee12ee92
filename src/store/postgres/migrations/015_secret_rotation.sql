-- Rotating a push subscription's signing secret (docs/delivery.md, "Rotating the signing secret"). `secret` is
-- always the newest; the one it replaced signs beside it until `previous_secret_until` (epoch ms), so receivers
-- can move to the new one without a moment where neither verifies. At most two: a rotation during a grace period
-- drops the oldest.
ALTER TABLE subscriptions
  ADD COLUMN previous_secret text,
  ADD COLUMN previous_secret_until bigint,
  -- Counts rotations: a process whose copy of the subscription has an older number reads it again before it
  -- signs (the lease answers each delivery's number), so what it sends after a rotation carries the new signature.
  ADD COLUMN secret_version integer NOT NULL DEFAULT 1,
  -- When the secret last changed (epoch ms); null for never.
  ADD COLUMN secret_rotated_at bigint;

-- Publishing, as in migration 013, except for one thing: a delivery is not claimed (sent at once by the publishing
-- process, signed with the secrets that process knows) in the minute after its subscription's secret changed.
-- Another process may not have heard of the rotation yet; left unclaimed, the delivery goes through a lease,
-- which answers the subscription's secret_version, and a process with an older copy reads it again before it
-- signs. A minute is far longer than a rotation takes to be heard (moments, or the registry's 30-second reload
-- when an announcement is lost) and costs only the claim's shortcut, for one subscription, for that minute.
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
        CASE WHEN fan.c AND sub.endpoint IS NOT NULL AND sub.status = 'active' AND (sub.secret_rotated_at IS NULL OR sub.secret_rotated_at <= now_ms - 60000) THEN herald_append_claimed.lease_owner END,
        CASE WHEN fan.c AND sub.endpoint IS NOT NULL AND sub.status = 'active' AND (sub.secret_rotated_at IS NULL OR sub.secret_rotated_at <= now_ms - 60000) THEN herald_append_claimed.lease_until END
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
      SELECT fan.s, stored.seq, fan.c AND (sub.secret_rotated_at IS NULL OR sub.secret_rotated_at <= now_ms - 60000) AS c, sub.endpoint, sub.status, sub.on_dead_letter,
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
