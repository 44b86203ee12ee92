-- Retention (docs/retention.md). The log and the deliveries become tables partitioned by position, in ranges
-- that stand for days: positions of day D (days since 1970-01-01, by Herald's clock) start at D * 10^10, and
-- the retention loop moves both sequences into the current day's range (under the append lock, so commit
-- order holds). A partition of days [a, b) therefore holds what was published on those days, and leaves by
-- DETACH and DROP once wholly older than HERALD_RETENTION. Positions stay below 2^53 until the year 2243.
--
-- Partitioning by position rather than by time keeps every read that names a position (polls, payload
-- lookups, leases and settlements by delivery id) pruned to one partition. A unique index on a partitioned
-- table must include the partition key, so (source, id) moves to the unpartitioned `event_keys`, which
-- hands out positions and serves `after=<id>` lookups; its rows outlive their events for one more retention
-- period, so an `after` naming a removed event is answered 410 rather than 400.

-- The existing tables become the "legacy" partitions, keeping their rows and indexes in place.
ALTER TABLE events RENAME TO events_legacy;
ALTER TABLE deliveries RENAME TO deliveries_legacy;
ALTER TABLE events_legacy ALTER COLUMN seq DROP IDENTITY;
ALTER TABLE deliveries_legacy ALTER COLUMN id DROP IDENTITY;
ALTER INDEX events_pkey RENAME TO events_legacy_pkey;
ALTER INDEX events_resource_seq RENAME TO events_legacy_resource_seq;
ALTER INDEX events_source_seq RENAME TO events_legacy_source_seq;
ALTER INDEX events_subject_seq RENAME TO events_legacy_subject_seq;
ALTER INDEX events_alternativesubject_seq RENAME TO events_legacy_alternativesubject_seq;
ALTER INDEX deliveries_pkey RENAME TO deliveries_legacy_pkey;
ALTER INDEX deliveries_due RENAME TO deliveries_legacy_due;
ALTER INDEX deliveries_subscription RENAME TO deliveries_legacy_subscription;
ALTER INDEX deliveries_subscription_status RENAME TO deliveries_legacy_subscription_status;

CREATE SEQUENCE events_seq_seq;
CREATE SEQUENCE deliveries_id_seq;
SELECT setval('events_seq_seq', COALESCE((SELECT max(seq) FROM events_legacy), 0) + 1, false);
SELECT setval('deliveries_id_seq', COALESCE((SELECT max(id) FROM deliveries_legacy), 0) + 1, false);

-- Idempotent publishing on (source, id), and `after=<id>` lookups. Publishing inserts here first, which
-- draws the position, then into `events` in the same statement.
CREATE TABLE event_keys (
  source text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL DEFAULT nextval('events_seq_seq'),
  PRIMARY KEY (source, id)
);
CREATE INDEX event_keys_id ON event_keys (id);
-- Retention forgets keys oldest first.
CREATE INDEX event_keys_seq ON event_keys (seq);
INSERT INTO event_keys (source, id, seq) SELECT source, id, seq FROM events_legacy;
DROP INDEX events_source_id;
DROP INDEX events_id;

CREATE TABLE events (
  seq bigint NOT NULL,
  id text COLLATE "C" NOT NULL,
  source text COLLATE "C" NOT NULL,
  type text COLLATE "C" NOT NULL,
  resource text COLLATE "C" NOT NULL,
  subject text COLLATE "C",
  alternativesubject text COLLATE "C",
  time timestamptz,
  registered_at timestamptz NOT NULL DEFAULT now(),
  payload json NOT NULL,
  PRIMARY KEY (seq)
) PARTITION BY RANGE (seq);
CREATE INDEX events_resource_seq ON events (resource, seq);
CREATE INDEX events_source_seq ON events (source, seq);
CREATE INDEX events_subject_seq ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX events_alternativesubject_seq ON events (alternativesubject, seq) WHERE alternativesubject IS NOT NULL;

CREATE TABLE deliveries (
  id bigint NOT NULL DEFAULT nextval('deliveries_id_seq'),
  subscription_id bigint NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  event_seq bigint NOT NULL,
  status text NOT NULL CONSTRAINT deliveries_status_check CHECK (status IN ('pending', 'failed', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint,
  lease_owner text,
  lease_until bigint,
  last_status_code integer,
  last_error text,
  delivered_at bigint,
  created_at bigint NOT NULL,
  PRIMARY KEY (id)
) PARTITION BY RANGE (id);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);
CREATE INDEX deliveries_subscription_status ON deliveries (subscription_id, status, id);

-- The partitions Herald made, by the days they stand for; the legacy ones have from_day 0.
CREATE TABLE herald_partitions (
  from_day integer PRIMARY KEY,
  to_day integer NOT NULL
);

-- Where the log and the deliveries stood at a time (Herald's clock, epoch ms): every event with
-- seq < events_before and every delivery with id < deliveries_before had committed by then.
CREATE TABLE retention_marks (
  at bigint PRIMARY KEY,
  events_before bigint NOT NULL,
  deliveries_before bigint NOT NULL
);

-- Small facts retention keeps: `events_removed_through` (the highest position removed, for 410 answers)
-- and `finished_deliveries_swept_before` (where the sweep of finished deliveries has got to).
CREATE TABLE retention_state (
  name text PRIMARY KEY,
  value bigint NOT NULL
);

-- Marks for the existing data, one per past day, from the times events were registered, so that old data
-- leaves one retention period after it was published rather than after the upgrade.
WITH days AS (
  SELECT (floor(extract(epoch FROM registered_at) / 86400)::bigint + 1) * 86400000 AS at, max(seq) AS last_seq
  FROM events_legacy GROUP BY 1
), delivery_days AS (
  SELECT (floor(extract(epoch FROM e.registered_at) / 86400)::bigint + 1) * 86400000 AS at, max(d.id) AS last_id
  FROM deliveries_legacy d JOIN events_legacy e ON e.seq = d.event_seq GROUP BY 1
)
INSERT INTO retention_marks (at, events_before, deliveries_before)
SELECT days.at, max(days.last_seq) OVER w + 1, COALESCE(max(delivery_days.last_id) OVER w, 0) + 1
FROM days LEFT JOIN delivery_days ON delivery_days.at = days.at
WHERE days.at <= extract(epoch FROM now()) * 1000
WINDOW w AS (ORDER BY days.at);

-- Attach the old tables below today's range, open today's, and move both sequences into it.
DO $$
DECLARE
  today integer := floor(extract(epoch FROM now()) / 86400)::integer;
  first_seq bigint := today::bigint * 10000000000;
BEGIN
  EXECUTE format('ALTER TABLE events ATTACH PARTITION events_legacy FOR VALUES FROM (MINVALUE) TO (%s)', first_seq);
  EXECUTE format('ALTER TABLE deliveries ATTACH PARTITION deliveries_legacy FOR VALUES FROM (MINVALUE) TO (%s)', first_seq);
  EXECUTE format('CREATE TABLE events_p%s PARTITION OF events FOR VALUES FROM (%s) TO (%s)', today, first_seq, first_seq + 10000000000);
  EXECUTE format('CREATE TABLE deliveries_p%s PARTITION OF deliveries FOR VALUES FROM (%s) TO (%s)', today, first_seq, first_seq + 10000000000);
  INSERT INTO herald_partitions (from_day, to_day) VALUES (0, today), (today, today + 1);
  PERFORM setval('events_seq_seq', first_seq, false);
  PERFORM setval('deliveries_id_seq', first_seq, false);
END $$;
