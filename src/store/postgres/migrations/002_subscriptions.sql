-- Subscriptions and their deliveries. Times are epoch milliseconds from Herald's clock.
CREATE TABLE subscriptions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- A hash of (consumer, endpoint, filters): identical requests find one subscription, race-free.
  identity text NOT NULL UNIQUE,
  consumer text NOT NULL,
  created_by text NOT NULL,
  endpoint text,
  source_filter text,
  resource_filter text,
  subject_filter text,
  alternative_subject_filter text,
  type_filter text,
  secret text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'active', 'disabled', 'inactive')),
  created_at bigint NOT NULL,
  validated_at bigint,
  validation_attempts integer NOT NULL DEFAULT 0,
  next_validation_at bigint,
  validation_lease_until bigint,
  last_error text
);
CREATE INDEX subscriptions_consumer ON subscriptions (consumer, id);
CREATE INDEX subscriptions_validation_due ON subscriptions (next_validation_at) WHERE next_validation_at IS NOT NULL;

-- One row per (matching subscription, event), written in the transaction that stores the event.
CREATE TABLE deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id bigint NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  event_seq bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'failed', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  -- When the next attempt is due; NULL once delivered or dead, so the due index holds only live work.
  next_attempt_at bigint,
  lease_owner text,
  lease_until bigint,
  last_status_code integer,
  last_error text,
  delivered_at bigint,
  created_at bigint NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);
CREATE INDEX deliveries_subscription_status ON deliveries (subscription_id, status, id);
