-- PostgreSQL schema of a freshly migrated Herald database. Made by `npm run schema:dump`; do not edit.

-- Its day partitions (deliveries_p<day>) are made as days pass and not shown.
CREATE TABLE deliveries (
  id bigint DEFAULT nextval('deliveries_id_seq'::regclass) NOT NULL,
  subscription_id bigint NOT NULL,
  event_seq bigint NOT NULL,
  status text NOT NULL,
  attempts integer DEFAULT 0 NOT NULL,
  next_attempt_at bigint,
  lease_owner text,
  lease_until bigint,
  last_status_code integer,
  last_error text,
  delivered_at bigint,
  created_at bigint NOT NULL,
  replay_id bigint,
  ordering_key bigint,
  dead_at bigint,
  last_error_kind text,
  CONSTRAINT deliveries_pkey PRIMARY KEY (id),
  CONSTRAINT deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'failed'::text, 'delivered'::text, 'dead'::text]))),
  CONSTRAINT deliveries_subscription_id_fkey1 FOREIGN KEY (subscription_id) REFERENCES subscriptions(id) ON DELETE CASCADE
) PARTITION BY RANGE (id);
CREATE INDEX deliveries_due ON ONLY public.deliveries USING btree (next_attempt_at) WHERE (next_attempt_at IS NOT NULL);
CREATE INDEX deliveries_ordered_dead ON ONLY public.deliveries USING btree (subscription_id, ordering_key) WHERE ((ordering_key IS NOT NULL) AND (status = 'dead'::text));
CREATE INDEX deliveries_ordered_head ON ONLY public.deliveries USING btree (subscription_id, ordering_key) WHERE ((ordering_key IS NOT NULL) AND (status = ANY (ARRAY['pending'::text, 'failed'::text])) AND (next_attempt_at IS NOT NULL));
CREATE INDEX deliveries_ordered_waiting ON ONLY public.deliveries USING btree (subscription_id, ordering_key, id) WHERE ((ordering_key IS NOT NULL) AND (status = ANY (ARRAY['pending'::text, 'failed'::text])));
CREATE UNIQUE INDEX deliveries_pkey ON ONLY public.deliveries USING btree (id);
CREATE INDEX deliveries_replayed ON ONLY public.deliveries USING btree (event_seq) WHERE (replay_id IS NOT NULL);
CREATE INDEX deliveries_subscription ON ONLY public.deliveries USING btree (subscription_id, id);
CREATE INDEX deliveries_subscription_status ON ONLY public.deliveries USING btree (subscription_id, status, id);
CREATE TRIGGER deliveries_attempts_removed AFTER DELETE ON public.deliveries REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION herald_attempts_removed();
CREATE TRIGGER deliveries_ordered_removed AFTER DELETE ON public.deliveries FOR EACH ROW WHEN (((old.ordering_key IS NOT NULL) AND (old.status = ANY (ARRAY['pending'::text, 'failed'::text, 'dead'::text])))) EXECUTE FUNCTION herald_ordered_moved_on();
CREATE TRIGGER deliveries_ordered_settled AFTER UPDATE OF status ON public.deliveries FOR EACH ROW WHEN (((new.ordering_key IS NOT NULL) AND (old.status <> new.status) AND ((new.status = ANY (ARRAY['delivered'::text, 'dead'::text])) OR (old.status = ANY (ARRAY['dead'::text, 'delivered'::text]))))) EXECUTE FUNCTION herald_ordered_moved_on();

-- A partition of deliveries; its bounds are not shown: they are set from the day of migrating.
CREATE TABLE deliveries_legacy (
  id bigint NOT NULL,
  subscription_id bigint NOT NULL,
  event_seq bigint NOT NULL,
  status text NOT NULL,
  attempts integer DEFAULT 0 NOT NULL,
  next_attempt_at bigint,
  lease_owner text,
  lease_until bigint,
  last_status_code integer,
  last_error text,
  delivered_at bigint,
  created_at bigint NOT NULL,
  replay_id bigint,
  ordering_key bigint,
  dead_at bigint,
  last_error_kind text,
  CONSTRAINT deliveries_legacy_pkey PRIMARY KEY (id),
  CONSTRAINT deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'failed'::text, 'delivered'::text, 'dead'::text]))),
  CONSTRAINT deliveries_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES subscriptions(id) ON DELETE CASCADE
) PARTITION OF deliveries;
CREATE INDEX deliveries_legacy_due ON public.deliveries_legacy USING btree (next_attempt_at) WHERE (next_attempt_at IS NOT NULL);
CREATE INDEX deliveries_legacy_event_seq_idx ON public.deliveries_legacy USING btree (event_seq) WHERE (replay_id IS NOT NULL);
CREATE UNIQUE INDEX deliveries_legacy_pkey ON public.deliveries_legacy USING btree (id);
CREATE INDEX deliveries_legacy_subscription ON public.deliveries_legacy USING btree (subscription_id, id);
CREATE INDEX deliveries_legacy_subscription_id_ordering_key_id_idx ON public.deliveries_legacy USING btree (subscription_id, ordering_key, id) WHERE ((ordering_key IS NOT NULL) AND (status = ANY (ARRAY['pending'::text, 'failed'::text])));
CREATE INDEX deliveries_legacy_subscription_id_ordering_key_idx ON public.deliveries_legacy USING btree (subscription_id, ordering_key) WHERE ((ordering_key IS NOT NULL) AND (status = ANY (ARRAY['pending'::text, 'failed'::text])) AND (next_attempt_at IS NOT NULL));
CREATE INDEX deliveries_legacy_subscription_id_ordering_key_idx1 ON public.deliveries_legacy USING btree (subscription_id, ordering_key) WHERE ((ordering_key IS NOT NULL) AND (status = 'dead'::text));
CREATE INDEX deliveries_legacy_subscription_status ON public.deliveries_legacy USING btree (subscription_id, status, id);
CREATE TRIGGER deliveries_ordered_removed AFTER DELETE ON public.deliveries_legacy FOR EACH ROW WHEN (((old.ordering_key IS NOT NULL) AND (old.status = ANY (ARRAY['pending'::text, 'failed'::text, 'dead'::text])))) EXECUTE FUNCTION herald_ordered_moved_on();
CREATE TRIGGER deliveries_ordered_settled AFTER UPDATE OF status ON public.deliveries_legacy FOR EACH ROW WHEN (((new.ordering_key IS NOT NULL) AND (old.status <> new.status) AND ((new.status = ANY (ARRAY['delivered'::text, 'dead'::text])) OR (old.status = ANY (ARRAY['dead'::text, 'delivered'::text]))))) EXECUTE FUNCTION herald_ordered_moved_on();

-- Its day partitions (delivery_attempts_p<day>) are made as days pass and not shown.
CREATE TABLE delivery_attempts (
  delivery_id bigint NOT NULL,
  id bigint DEFAULT nextval('delivery_attempts_id_seq'::regclass) NOT NULL,
  started_at bigint NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  response_headers text,
  response_body text,
  body_truncated boolean DEFAULT false NOT NULL,
  error_kind text,
  error text,
  CONSTRAINT delivery_attempts_pkey PRIMARY KEY (delivery_id, id)
) PARTITION BY RANGE (delivery_id);
CREATE UNIQUE INDEX delivery_attempts_pkey ON ONLY public.delivery_attempts USING btree (delivery_id, id);

-- A partition of delivery_attempts; its bounds are not shown: they are set from the day of migrating.
CREATE TABLE delivery_attempts_legacy (
  delivery_id bigint NOT NULL,
  id bigint DEFAULT nextval('delivery_attempts_id_seq'::regclass) NOT NULL,
  started_at bigint NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  response_headers text,
  response_body text,
  body_truncated boolean DEFAULT false NOT NULL,
  error_kind text,
  error text,
  CONSTRAINT delivery_attempts_legacy_pkey PRIMARY KEY (delivery_id, id)
) PARTITION OF delivery_attempts;
CREATE UNIQUE INDEX delivery_attempts_legacy_pkey ON public.delivery_attempts_legacy USING btree (delivery_id, id);

CREATE UNLOGGED TABLE dispatcher_holdings (
  owner text NOT NULL,
  holdings text NOT NULL,
  expires_at bigint NOT NULL,
  CONSTRAINT dispatcher_holdings_pkey PRIMARY KEY (owner)
);
CREATE UNIQUE INDEX dispatcher_holdings_pkey ON public.dispatcher_holdings USING btree (owner);

CREATE TABLE event_keys (
  source text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  seq bigint DEFAULT nextval('events_seq_seq'::regclass) NOT NULL,
  CONSTRAINT event_keys_pkey PRIMARY KEY (id, source)
);
CREATE UNIQUE INDEX event_keys_pkey ON public.event_keys USING btree (id, source);
CREATE INDEX event_keys_seq ON public.event_keys USING btree (seq);

-- Its day partitions (events_p<day>) are made as days pass and not shown.
CREATE TABLE events (
  seq bigint NOT NULL,
  id text COLLATE "C" NOT NULL,
  source text COLLATE "C" NOT NULL,
  type text COLLATE "C" NOT NULL,
  resource text COLLATE "C" NOT NULL,
  subject text COLLATE "C",
  alternativesubject text COLLATE "C",
  "time" timestamp with time zone,
  registered_at timestamp with time zone DEFAULT now() NOT NULL,
  payload json NOT NULL,
  CONSTRAINT events_pkey PRIMARY KEY (seq)
) PARTITION BY RANGE (seq);
CREATE INDEX events_alternativesubject_seq ON ONLY public.events USING btree (alternativesubject, seq) WHERE (alternativesubject IS NOT NULL);
CREATE UNIQUE INDEX events_pkey ON ONLY public.events USING btree (seq);
CREATE INDEX events_resource_seq ON ONLY public.events USING btree (resource, seq);
CREATE INDEX events_source_seq ON ONLY public.events USING btree (source, seq);
CREATE INDEX events_subject_seq ON ONLY public.events USING btree (subject, seq) WHERE (subject IS NOT NULL);

-- A partition of events; its bounds are not shown: they are set from the day of migrating.
CREATE TABLE events_legacy (
  seq bigint NOT NULL,
  id text COLLATE "C" NOT NULL,
  source text COLLATE "C" NOT NULL,
  type text COLLATE "C" NOT NULL,
  resource text COLLATE "C" NOT NULL,
  subject text COLLATE "C",
  alternativesubject text COLLATE "C",
  "time" timestamp with time zone,
  registered_at timestamp with time zone DEFAULT now() NOT NULL,
  payload json NOT NULL,
  CONSTRAINT events_legacy_pkey PRIMARY KEY (seq)
) PARTITION OF events;
CREATE INDEX events_legacy_alternativesubject_seq ON public.events_legacy USING btree (alternativesubject, seq) WHERE (alternativesubject IS NOT NULL);
CREATE UNIQUE INDEX events_legacy_pkey ON public.events_legacy USING btree (seq);
CREATE INDEX events_legacy_resource_seq ON public.events_legacy USING btree (resource, seq);
CREATE INDEX events_legacy_source_seq ON public.events_legacy USING btree (source, seq);
CREATE INDEX events_legacy_subject_seq ON public.events_legacy USING btree (subject, seq) WHERE (subject IS NOT NULL);

CREATE TABLE herald_keys (
  name text NOT NULL,
  value text NOT NULL,
  CONSTRAINT herald_keys_pkey PRIMARY KEY (name)
);
CREATE UNIQUE INDEX herald_keys_pkey ON public.herald_keys USING btree (name);

CREATE TABLE herald_migrations (
  version integer NOT NULL,
  name text NOT NULL,
  applied_at timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT herald_migrations_pkey PRIMARY KEY (version)
);
CREATE UNIQUE INDEX herald_migrations_pkey ON public.herald_migrations USING btree (version);

CREATE TABLE herald_partitions (
  from_day integer NOT NULL,
  to_day integer NOT NULL,
  CONSTRAINT herald_partitions_pkey PRIMARY KEY (from_day)
);
CREATE UNIQUE INDEX herald_partitions_pkey ON public.herald_partitions USING btree (from_day);

CREATE TABLE replays (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  subscription_id bigint NOT NULL,
  consumer text NOT NULL,
  status text NOT NULL,
  from_time bigint,
  after_cursor text,
  until_time bigint,
  after_seq bigint NOT NULL,
  through_seq bigint NOT NULL,
  "position" bigint NOT NULL,
  events bigint NOT NULL,
  enqueued bigint DEFAULT 0 NOT NULL,
  lease_owner text,
  lease_until bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  finished_at bigint,
  CONSTRAINT replays_pkey PRIMARY KEY (id),
  CONSTRAINT replays_status_check CHECK ((status = ANY (ARRAY['waiting'::text, 'running'::text, 'completed'::text, 'cancelled'::text]))),
  CONSTRAINT replays_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES subscriptions(id) ON DELETE CASCADE
);
CREATE INDEX replays_consumer_in_progress ON public.replays USING btree (consumer) WHERE (status = ANY (ARRAY['waiting'::text, 'running'::text]));
CREATE INDEX replays_finished ON public.replays USING btree (finished_at) WHERE (finished_at IS NOT NULL);
CREATE INDEX replays_in_progress ON public.replays USING btree (updated_at) WHERE (status = ANY (ARRAY['waiting'::text, 'running'::text]));
CREATE UNIQUE INDEX replays_pkey ON public.replays USING btree (id);
CREATE INDEX replays_subscription ON public.replays USING btree (subscription_id, id);

CREATE TABLE retention_marks (
  at bigint NOT NULL,
  events_before bigint NOT NULL,
  deliveries_before bigint NOT NULL,
  CONSTRAINT retention_marks_pkey PRIMARY KEY (at)
);
CREATE UNIQUE INDEX retention_marks_pkey ON public.retention_marks USING btree (at);

CREATE TABLE retention_state (
  name text NOT NULL,
  value bigint NOT NULL,
  CONSTRAINT retention_state_pkey PRIMARY KEY (name)
);
CREATE UNIQUE INDEX retention_state_pkey ON public.retention_state USING btree (name);

CREATE TABLE subscriptions (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  identity text NOT NULL,
  consumer text NOT NULL,
  created_by text NOT NULL,
  endpoint text,
  source_filter text,
  resource_filter text,
  subject_filter text,
  alternative_subject_filter text,
  type_filter text,
  secret text NOT NULL,
  status text NOT NULL,
  created_at bigint NOT NULL,
  validated_at bigint,
  validation_attempts integer DEFAULT 0 NOT NULL,
  next_validation_at bigint,
  validation_lease_until bigint,
  last_error text,
  acknowledged_delivery_id bigint DEFAULT 0 NOT NULL,
  last_read_at bigint,
  checkpoint_epoch integer DEFAULT 0 NOT NULL,
  disabled_by text,
  health text DEFAULT 'healthy'::text NOT NULL,
  health_since bigint,
  health_error text,
  consecutive_failures integer DEFAULT 0 NOT NULL,
  probe_at bigint,
  probe_interval bigint,
  ordering text DEFAULT 'none'::text NOT NULL,
  on_dead_letter text DEFAULT 'skip'::text NOT NULL,
  previous_secret text,
  previous_secret_until bigint,
  secret_version integer DEFAULT 1 NOT NULL,
  secret_rotated_at bigint,
  filters text,
  CONSTRAINT subscriptions_disabled_by_check CHECK ((disabled_by = ANY (ARRAY['operator'::text, 'endpoint'::text]))),
  CONSTRAINT subscriptions_health_check CHECK ((health = ANY (ARRAY['healthy'::text, 'failing'::text, 'suspended'::text]))),
  CONSTRAINT subscriptions_identity_key UNIQUE (identity),
  CONSTRAINT subscriptions_on_dead_letter_check CHECK ((on_dead_letter = ANY (ARRAY['skip'::text, 'block'::text]))),
  CONSTRAINT subscriptions_ordering_check CHECK ((ordering = ANY (ARRAY['none'::text, 'subject'::text, 'partitionkey'::text]))),
  CONSTRAINT subscriptions_pkey PRIMARY KEY (id),
  CONSTRAINT subscriptions_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'active'::text, 'disabled'::text, 'inactive'::text])))
);
CREATE INDEX subscriptions_consumer ON public.subscriptions USING btree (consumer, id);
CREATE UNIQUE INDEX subscriptions_identity_key ON public.subscriptions USING btree (identity);
CREATE INDEX subscriptions_ordered ON public.subscriptions USING btree (id) WHERE (ordering <> 'none'::text);
CREATE UNIQUE INDEX subscriptions_pkey ON public.subscriptions USING btree (id);
CREATE INDEX subscriptions_probe_due ON public.subscriptions USING btree (probe_at) WHERE (probe_at IS NOT NULL);
CREATE INDEX subscriptions_validating ON public.subscriptions USING btree (consumer) WHERE (validation_lease_until IS NOT NULL);
CREATE INDEX subscriptions_validation_due ON public.subscriptions USING btree (next_validation_at) WHERE (next_validation_at IS NOT NULL);

CREATE SEQUENCE deliveries_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1;

CREATE SEQUENCE delivery_attempts_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1;

CREATE SEQUENCE events_seq_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1;

CREATE SEQUENCE replays_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1;

CREATE SEQUENCE subscriptions_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1;

CREATE OR REPLACE FUNCTION public.herald_append(lock_key bigint, ids text[], sources text[], types text[], resources text[], subjects text[], alternativesubjects text[], times timestamp with time zone[], payloads text[], fan_event integer[], fan_subscription bigint[], fan_claimed boolean[], now_ms bigint, lease_owner text, lease_until bigint, notify_channel text)
 RETURNS TABLE(event_n integer, seq bigint, delivery_id bigint, subscription_id bigint, claimed boolean)
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.herald_append_claimed(lock_key bigint, ids text[], sources text[], types text[], resources text[], subjects text[], alternativesubjects text[], times timestamp with time zone[], payloads text[], fan_event integer[], fan_subscription bigint[], fan_claimed boolean[], now_ms bigint, lease_owner text, lease_until bigint, notify_channel text)
 RETURNS TABLE(event_n integer, seq bigint, delivery_id bigint, subscription_id bigint, written integer, unclaimed integer)
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.herald_attempts_removed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  DELETE FROM delivery_attempts a USING gone WHERE a.delivery_id = gone.id;
  RETURN NULL;
END;
$function$;

CREATE OR REPLACE FUNCTION public.herald_ordered_moved_on()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.herald_ordered_next(moved_subscriptions bigint[], moved_keys bigint[])
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.herald_settle(lease_holder text, outcomes jsonb)
 RETURNS TABLE(id bigint, ordered boolean)
 LANGUAGE plpgsql
AS $function$
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
$function$;
