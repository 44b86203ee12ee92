-- Endpoint health, the circuit breaker in front of every push subscription (docs/isolation.md). States and
-- transitions are defined once, in src/domain/endpoint-health.ts.
ALTER TABLE subscriptions
  ADD COLUMN health text NOT NULL DEFAULT 'healthy' CHECK (health IN ('healthy', 'failing', 'suspended')),
  -- When the current health began (null: healthy since creation).
  ADD COLUMN health_since bigint,
  -- The error of the latest failed attempt while failing or suspended.
  ADD COLUMN health_error text,
  ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
  -- Suspended only: when the next probe may go out, and the wait that led to it (it doubles per failed probe).
  ADD COLUMN probe_at bigint,
  ADD COLUMN probe_interval bigint;

-- Suspended subscriptions whose probe is due are found without reading every subscription.
CREATE INDEX subscriptions_probe_due ON subscriptions (probe_at) WHERE probe_at IS NOT NULL;

-- What each Herald process holds of the delivery budgets (per subscription: in flight or leased to go next),
-- so the budgets per consumer and per endpoint origin hold across processes (docs/isolation.md). Each process
-- rewrites its own row a few times a second and reads the others'; a row outlives its process by a lease, as
-- its leases do. Unlogged: it is rewritten constantly and means nothing after a crash.
CREATE UNLOGGED TABLE dispatcher_holdings (
  owner text PRIMARY KEY,
  holdings text NOT NULL,
  expires_at bigint NOT NULL
);

-- Handshakes in flight per consumer, for the handshake budget (a consumer at its share waits for its own).
CREATE INDEX subscriptions_validating ON subscriptions (consumer) WHERE validation_lease_until IS NOT NULL;
