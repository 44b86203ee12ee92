-- Replays (docs/replay.md): a subscription's events from a range of the log, sent to it again. A replay is
-- enqueued in pieces by a background loop: `position` is how far it has got, so a replay resumes where it
-- stopped after a restart, and a piece is written only if `position` is still what its writer read.

CREATE TABLE replays (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  -- The subscription's owner, for the per-consumer limit on replays in progress.
  consumer TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'completed', 'cancelled')),
  -- What was asked for, shown back: a time (epoch ms) or an `after` cursor, and an end time.
  from_time INTEGER,
  after_cursor TEXT,
  until_time INTEGER,
  -- The range: positions after `after_seq` up to and including `through_seq`; enqueued through `position`.
  after_seq INTEGER NOT NULL,
  through_seq INTEGER NOT NULL,
  position INTEGER NOT NULL,
  -- Events the range selected when it was fixed, and deliveries written so far.
  events INTEGER NOT NULL,
  enqueued INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX replays_subscription ON replays (subscription_id, id);
-- The loop's work: replays in progress, the one advanced longest ago first.
CREATE INDEX replays_in_progress ON replays (updated_at) WHERE status IN ('waiting', 'running');
CREATE INDEX replays_consumer_in_progress ON replays (consumer) WHERE status IN ('waiting', 'running');
-- Finished replays are forgotten after a while.
CREATE INDEX replays_finished ON replays (finished_at) WHERE finished_at IS NOT NULL;

-- The replay a delivery was written by; NULL for one written when its event was published. Deliveries are not
-- unique per (subscription, event), so a replay adds a new one beside any earlier delivery of the event.
ALTER TABLE deliveries ADD COLUMN replay_id INTEGER;
-- A replayed delivery is newer than its event: retention finds those whose event it removed here. Live
-- deliveries have no replay, so publishing writes nothing to this index.
CREATE INDEX deliveries_replayed ON deliveries (event_seq) WHERE replay_id IS NOT NULL;
