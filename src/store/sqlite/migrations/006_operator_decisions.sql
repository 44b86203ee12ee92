-- Who disabled a subscription (docs/subscriptions.md): `operator` (herald subscriptions disable), which only
-- an operator undoes, or `endpoint` (it answered 410 Gone), which its owner may fix by validating again.
ALTER TABLE subscriptions ADD COLUMN disabled_by TEXT CHECK (disabled_by IN ('operator', 'endpoint'));

-- Subscriptions already disabled: a 410 left its words in last_error; every other disable was an operator's.
UPDATE subscriptions
SET disabled_by = CASE WHEN last_error LIKE '%answered 410 Gone%' THEN 'endpoint' ELSE 'operator' END
WHERE status = 'disabled';
