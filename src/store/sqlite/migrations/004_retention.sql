-- Retention (docs/retention.md): old events and deliveries are removed in small batches, oldest first.

-- Where the log and the deliveries stood at a time (Herald's clock, epoch ms): every event with
-- seq < events_before and every delivery with id < deliveries_before had committed by then.
CREATE TABLE retention_marks (
  at INTEGER PRIMARY KEY,
  events_before INTEGER NOT NULL,
  deliveries_before INTEGER NOT NULL
);

-- Small facts retention keeps: `events_removed_through` (the highest position removed, for 410 answers)
-- and `finished_deliveries_swept_before` (where the sweep of finished deliveries has got to).
CREATE TABLE retention_state (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);

-- The keys of removed events, kept for one more retention period, so that an `after` naming one is
-- answered 410 (removed) rather than 400 (never known).
CREATE TABLE removed_event_keys (
  seq INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  id TEXT NOT NULL
);
CREATE INDEX removed_event_keys_id ON removed_event_keys (id);

-- Marks for the existing data, one per past day, from the times events were registered, so that old data
-- leaves one retention period after it was published rather than after the upgrade.
WITH days AS (
  SELECT (registered_at / 86400000 + 1) * 86400000 AS at, max(seq) AS last_seq FROM events GROUP BY 1
), delivery_days AS (
  SELECT (e.registered_at / 86400000 + 1) * 86400000 AS at, max(d.id) AS last_id
  FROM deliveries d JOIN events e ON e.seq = d.event_seq GROUP BY 1
)
INSERT INTO retention_marks (at, events_before, deliveries_before)
SELECT days.at, max(days.last_seq) OVER w + 1, COALESCE(max(delivery_days.last_id) OVER w, 0) + 1
FROM days LEFT JOIN delivery_days ON delivery_days.at = days.at
WHERE days.at <= unixepoch() * 1000
WINDOW w AS (ORDER BY days.at);
