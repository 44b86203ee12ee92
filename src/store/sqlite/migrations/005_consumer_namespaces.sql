-- Consumer identities in namespaces (docs/authentication.md): every claim is written into its own,
-- `/org/…`, `/user/…`, `/organisation/…` or `/sub/…`, its value percent-encoded as encodeURIComponent does
-- (everything but letters, digits and -_.!~*'() becomes %XX of its UTF-8 bytes). Herald used to take a
-- sub-only token's `sub` as it was: those subscriptions move to `/sub/{sub}`, where their owner's tokens now
-- name it. A stored value in one of the other namespaces stays where it is: a `sub` that was written
-- `/org/x` could not be told from org x then, and cannot be now.

-- Each bare value, encoded a character at a time (hex() gives a character's UTF-8 bytes).
CREATE TEMP TABLE herald_carried_over AS
WITH RECURSIVE encoding(id, col, rest, done) AS (
  SELECT id, 'consumer', consumer, '' FROM subscriptions
  WHERE NOT (substr(consumer, 1, 5) = '/org/' OR substr(consumer, 1, 6) = '/user/' OR substr(consumer, 1, 14) = '/organisation/')
  UNION ALL
  SELECT id, 'created_by', created_by, '' FROM subscriptions
  WHERE NOT (substr(created_by, 1, 5) = '/org/' OR substr(created_by, 1, 6) = '/user/' OR substr(created_by, 1, 14) = '/organisation/')
  UNION ALL
  SELECT id, col, substr(rest, 2), done || CASE
    WHEN substr(rest, 1, 1) GLOB '[A-Za-z0-9_.!~*''()-]' THEN substr(rest, 1, 1)
    ELSE '%' || substr(hex(substr(rest, 1, 1)), 1, 2)
      || iif(length(hex(substr(rest, 1, 1))) > 2, '%' || substr(hex(substr(rest, 1, 1)), 3, 2), '')
      || iif(length(hex(substr(rest, 1, 1))) > 4, '%' || substr(hex(substr(rest, 1, 1)), 5, 2), '')
      || iif(length(hex(substr(rest, 1, 1))) > 6, '%' || substr(hex(substr(rest, 1, 1)), 7, 2), '')
  END
  FROM encoding WHERE rest <> ''
)
SELECT id, col, done AS encoded FROM encoding WHERE rest = '';

UPDATE subscriptions SET consumer = '/sub/' || (
  SELECT encoded FROM herald_carried_over c WHERE c.id = subscriptions.id AND c.col = 'consumer'
) WHERE id IN (SELECT id FROM herald_carried_over WHERE col = 'consumer');
UPDATE subscriptions SET created_by = '/sub/' || (
  SELECT encoded FROM herald_carried_over c WHERE c.id = subscriptions.id AND c.col = 'created_by'
) WHERE id IN (SELECT id FROM herald_carried_over WHERE col = 'created_by');

DROP TABLE herald_carried_over;
