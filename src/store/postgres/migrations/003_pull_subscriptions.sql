-- Pull subscriptions read their queue (their deliveries) by checkpoint. Acknowledging moves one position
-- per subscription instead of touching rows, so it costs the same at the millionth event as at the first.
ALTER TABLE subscriptions ADD COLUMN acknowledged_delivery_id bigint NOT NULL DEFAULT 0;
-- When the subscription was last read; a pull subscription unread for long becomes inactive.
ALTER TABLE subscriptions ADD COLUMN last_read_at bigint;
-- Bumped when a pull subscription becomes inactive: checkpoints from before are out of range for good.
ALTER TABLE subscriptions ADD COLUMN checkpoint_epoch integer NOT NULL DEFAULT 0;

-- Keys Herald makes for itself, shared by every process on the database (the checkpoint signing key).
CREATE TABLE herald_keys (
  name text PRIMARY KEY,
  value text NOT NULL
);
