-- Replays (docs/replay.md): a subscription's events from a range of the log, sent to it again. A replay is
-- enqueued in pieces by a background loop: `position` is how far it has got, so a replay resumes where it
-- stopped after a restart, and a piece is written only if `position` is still what its writer read.

CREATE TABLE replays (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id bigint NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  -- The subscription's owner, for the per-consumer limit on replays in progress.
  consumer text NOT NULL,
  status text NOT NULL CONSTRAINT replays_status_check CHECK (status IN ('waiting', 'running', 'completed', 'cancelled')),
  -- What was asked for, shown back: a time (epoch ms) or an `after` cursor, and an end time.
  from_time bigint,
  after_cursor text,
  until_time bigint,
  -- The range: positions after `after_seq` up to and including `through_seq`; enqueued through `position`.
  after_seq bigint NOT NULL,
  through_seq bigint NOT NULL,
  position bigint NOT NULL,
  -- Events the range selected when it was fixed, and deliveries written so far.
  events bigint NOT NULL,
  enqueued bigint NOT NULL DEFAULT 0,
  lease_owner text,
  lease_until bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  finished_at bigint
);
CREATE INDEX replays_subscription ON replays (subscription_id, id);
-- The loop's work: replays in progress, the one advanced longest ago first.
CREATE INDEX replays_in_progress ON replays (updated_at) WHERE status IN ('waiting', 'running');
CREATE INDEX replays_consumer_in_progress ON replays (consumer) WHERE status IN ('waiting', 'running');
-- Finished replays are forgotten after a while.
CREATE INDEX replays_finished ON replays (finished_at) WHERE finished_at IS NOT NULL;

-- The replay a delivery was written by; NULL for one written when its event was published. Deliveries are not
-- unique per (subscription, event), so a replay adds a new one beside any earlier delivery of the event. A
-- nullable column without a default is added without rewriting a partition.
ALTER TABLE deliveries ADD COLUMN replay_id bigint;
-- A replayed delivery lands in today's partition while its event may sit in one retention drops long before:
-- retention finds those here. Live deliveries have no replay, so publishing writes nothing to this index.
CREATE INDEX deliveries_replayed ON deliveries (event_seq) WHERE replay_id IS NOT NULL;
