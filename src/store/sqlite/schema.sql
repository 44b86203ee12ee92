-- SQLite schema of a freshly migrated Herald database. Made by `npm run schema:dump`; do not edit.

CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  event_seq INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'failed', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_owner TEXT,
  lease_until INTEGER,
  last_status_code INTEGER,
  last_error TEXT,
  delivered_at INTEGER,
  created_at INTEGER NOT NULL,
  replay_id INTEGER,
  ordering_key TEXT,
  dead_at INTEGER,
  last_error_kind TEXT
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_ordered_dead ON deliveries (subscription_id, ordering_key) WHERE ordering_key IS NOT NULL AND status = 'dead';
CREATE INDEX deliveries_ordered_head ON deliveries (subscription_id, ordering_key) WHERE ordering_key IS NOT NULL AND status IN ('pending', 'failed') AND next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_ordered_waiting ON deliveries (subscription_id, ordering_key, id) WHERE ordering_key IS NOT NULL AND status IN ('pending', 'failed');
CREATE INDEX deliveries_replayed ON deliveries (event_seq) WHERE replay_id IS NOT NULL;
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);
CREATE INDEX deliveries_subscription_status ON deliveries (subscription_id, status, id);
CREATE TRIGGER deliveries_ordered_removed AFTER DELETE ON deliveries WHEN OLD.ordering_key IS NOT NULL AND OLD.status IN ('pending', 'failed', 'dead') AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = OLD.subscription_id) BEGIN UPDATE deliveries SET next_attempt_at = created_at WHERE id = ( SELECT min(w.id) FROM deliveries w WHERE w.subscription_id = OLD.subscription_id AND w.ordering_key = OLD.ordering_key AND w.status IN ('pending', 'failed')) AND next_attempt_at IS NULL AND NOT EXISTS ( SELECT 1 FROM deliveries h WHERE h.subscription_id = OLD.subscription_id AND h.ordering_key = OLD.ordering_key AND h.status IN ('pending', 'failed') AND h.next_attempt_at IS NOT NULL) AND NOT EXISTS ( SELECT 1 FROM subscriptions s WHERE s.id = OLD.subscription_id AND s.on_dead_letter = 'block' AND EXISTS ( SELECT 1 FROM deliveries x WHERE x.subscription_id = OLD.subscription_id AND x.ordering_key = OLD.ordering_key AND x.status = 'dead')); END;
CREATE TRIGGER deliveries_ordered_settled AFTER UPDATE OF status ON deliveries WHEN NEW.ordering_key IS NOT NULL AND OLD.status <> NEW.status AND (NEW.status IN ('delivered', 'dead') OR OLD.status IN ('dead', 'delivered')) BEGIN UPDATE deliveries SET next_attempt_at = created_at WHERE id = ( SELECT min(w.id) FROM deliveries w WHERE w.subscription_id = NEW.subscription_id AND w.ordering_key = NEW.ordering_key AND w.status IN ('pending', 'failed')) AND next_attempt_at IS NULL AND NOT EXISTS ( SELECT 1 FROM deliveries h WHERE h.subscription_id = NEW.subscription_id AND h.ordering_key = NEW.ordering_key AND h.status IN ('pending', 'failed') AND h.next_attempt_at IS NOT NULL) AND NOT EXISTS ( SELECT 1 FROM subscriptions s WHERE s.id = NEW.subscription_id AND s.on_dead_letter = 'block' AND EXISTS ( SELECT 1 FROM deliveries x WHERE x.subscription_id = NEW.subscription_id AND x.ordering_key = NEW.ordering_key AND x.status = 'dead')); END;

CREATE TABLE delivery_attempts (
  id INTEGER PRIMARY KEY,
  delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  response_headers TEXT,
  response_body TEXT,
  body_truncated INTEGER NOT NULL DEFAULT 0,
  error_kind TEXT,
  error TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  resource TEXT NOT NULL,
  subject TEXT,
  alternativesubject TEXT,
  time TEXT,
  registered_at INTEGER NOT NULL,
  payload TEXT NOT NULL
);
CREATE INDEX events_alternativesubject_seq ON events (alternativesubject, seq) WHERE alternativesubject IS NOT NULL;
CREATE UNIQUE INDEX events_id_source ON events (id, source);
CREATE INDEX events_resource_seq ON events (resource, seq);
CREATE INDEX events_subject_seq ON events (subject, seq) WHERE subject IS NOT NULL;

CREATE TABLE herald_keys (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE herald_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
);

CREATE TABLE removed_event_keys (
  seq INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  id TEXT NOT NULL
);
CREATE INDEX removed_event_keys_id ON removed_event_keys (id);

CREATE TABLE replays (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  consumer TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'completed', 'cancelled')),
  from_time INTEGER,
  after_cursor TEXT,
  until_time INTEGER,
  after_seq INTEGER NOT NULL,
  through_seq INTEGER NOT NULL,
  position INTEGER NOT NULL,
  events INTEGER NOT NULL,
  enqueued INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX replays_consumer_in_progress ON replays (consumer) WHERE status IN ('waiting', 'running');
CREATE INDEX replays_finished ON replays (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX replays_in_progress ON replays (updated_at) WHERE status IN ('waiting', 'running');
CREATE INDEX replays_subscription ON replays (subscription_id, id);

CREATE TABLE retention_marks (
  at INTEGER PRIMARY KEY,
  events_before INTEGER NOT NULL,
  deliveries_before INTEGER NOT NULL
);

CREATE TABLE retention_state (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);

CREATE TABLE subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  last_error TEXT,
  acknowledged_delivery_id INTEGER NOT NULL DEFAULT 0,
  last_read_at INTEGER,
  checkpoint_epoch INTEGER NOT NULL DEFAULT 0,
  disabled_by TEXT CHECK (disabled_by IN ('operator', 'endpoint')),
  health TEXT NOT NULL DEFAULT 'healthy' CHECK (health IN ('healthy', 'failing', 'suspended')),
  health_since INTEGER,
  health_error TEXT,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  probe_at INTEGER,
  probe_interval INTEGER,
  ordering TEXT NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'subject', 'partitionkey')),
  on_dead_letter TEXT NOT NULL DEFAULT 'skip' CHECK (on_dead_letter IN ('skip', 'block')),
  previous_secret TEXT,
  previous_secret_until INTEGER,
  secret_version INTEGER NOT NULL DEFAULT 1,
  secret_rotated_at INTEGER,
  filters TEXT
);
CREATE INDEX subscriptions_consumer ON subscriptions (consumer, id);
CREATE INDEX subscriptions_probe_due ON subscriptions (probe_at) WHERE probe_at IS NOT NULL;
CREATE INDEX subscriptions_validating ON subscriptions (consumer) WHERE validation_lease_until IS NOT NULL;
CREATE INDEX subscriptions_validation_due ON subscriptions (next_validation_at) WHERE next_validation_at IS NOT NULL;
