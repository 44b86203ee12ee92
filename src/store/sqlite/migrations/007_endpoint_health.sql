-- Endpoint health, the circuit breaker in front of every push subscription (docs/isolation.md). States and
-- transitions are defined once, in src/domain/endpoint-health.ts. (SQLite has one Herald process per file, so
-- the delivery budgets need no count of other processes' leases, unlike PostgreSQL's migration 008.)
ALTER TABLE subscriptions ADD COLUMN health TEXT NOT NULL DEFAULT 'healthy'
  CHECK (health IN ('healthy', 'failing', 'suspended'));
-- When the current health began (null: healthy since creation).
ALTER TABLE subscriptions ADD COLUMN health_since INTEGER;
-- The error of the latest failed attempt while failing or suspended.
ALTER TABLE subscriptions ADD COLUMN health_error TEXT;
ALTER TABLE subscriptions ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
-- Suspended only: when the next probe may go out, and the wait that led to it (it doubles per failed probe).
ALTER TABLE subscriptions ADD COLUMN probe_at INTEGER;
ALTER TABLE subscriptions ADD COLUMN probe_interval INTEGER;

CREATE INDEX subscriptions_probe_due ON subscriptions (probe_at) WHERE probe_at IS NOT NULL;

-- Handshakes in flight per consumer, for the handshake budget (a consumer at its share waits for its own).
CREATE INDEX subscriptions_validating ON subscriptions (consumer) WHERE validation_lease_until IS NOT NULL;
