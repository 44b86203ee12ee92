-- Rotating a push subscription's signing secret (docs/delivery.md, "Rotating the signing secret"). `secret` is
-- always the newest; the one it replaced signs beside it until `previous_secret_until` (epoch ms), so receivers
-- can move to the new one without a moment where neither verifies. At most two: a rotation during a grace period
-- drops the oldest.
ALTER TABLE subscriptions ADD COLUMN previous_secret TEXT;
ALTER TABLE subscriptions ADD COLUMN previous_secret_until INTEGER;
-- Counts rotations: a process whose copy of the subscription has an older number reads it again before it signs
-- (the lease answers each delivery's number), so what it sends after a rotation carries the new signature.
ALTER TABLE subscriptions ADD COLUMN secret_version INTEGER NOT NULL DEFAULT 1;
-- When the secret last changed (epoch ms); null for never. PostgreSQL's publishing reads it (its migration 015:
-- no claim at publishing in the minute after a rotation); SQLite serves one process, whose answer to the rotation
-- waits until it has read the new secret, so here it is only a record.
ALTER TABLE subscriptions ADD COLUMN secret_rotated_at INTEGER;
