-- Subscriptions and their deliveries. Times are epoch milliseconds from Herald's clock.
CREATE TABLE subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  -- A hash of (consumer, endpoint, filters): identical requests find one subscription, race-free.
  identity TEXT NOT NULL UNIQUE,
  consumer TEXT NOT NULL,
  created_by TEXT NOT NULL,
  endpoint TEXT,
  source_filter TEXT,
  resource_filter TEXT,
  subject_filter TEXT,
  alternative_subject_filter TEXT,
  type_filter TEXT,
  secret TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'disabled', 'inactive')),
  created_at INTEGER NOT NULL,
  validated_at INTEGER,
  validation_attempts INTEGER NOT NULL DEFAULT 0,
  next_validation_at INTEGER,
  validation_lease_until INTEGER,
  last_error TEXT
);
CREATE INDEX subscriptions_consumer ON subscriptions (consumer, id);
CREATE INDEX subscriptions_validation_due ON subscriptions (next_validation_at) WHERE next_validation_at IS NOT NULL;

-- One row per (matching subscription, event), written in the transaction that stores the event.
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  event_seq INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'failed', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  -- When the next attempt is due; NULL once delivered or dead, so the due index holds only live work.
  next_attempt_at INTEGER,
  lease_owner TEXT,
  lease_until INTEGER,
  last_status_code INTEGER,
  last_error TEXT,
  delivered_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);
CREATE INDEX deliveries_subscription_status ON deliveries (subscription_id, status, id);
