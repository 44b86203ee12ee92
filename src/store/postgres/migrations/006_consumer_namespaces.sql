-- Consumer identities in namespaces (docs/authentication.md): every claim is written into its own,
-- `/org/…`, `/user/…`, `/organisation/…` or `/sub/…`, its value percent-encoded as encodeURIComponent does
-- (everything but letters, digits and -_.!~*'() becomes %XX of its UTF-8 bytes). Herald used to take a
-- sub-only token's `sub` as it was: those subscriptions move to `/sub/{sub}`, where their owner's tokens now
-- name it. A stored value in one of the other namespaces stays where it is: a `sub` that was written
-- `/org/x` could not be told from org x then, and cannot be now.
CREATE FUNCTION pg_temp.herald_uri_component(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(string_agg(
    CASE WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90 OR b BETWEEN 97 AND 122 OR b IN (33, 39, 40, 41, 42, 45, 46, 95, 126)
      THEN chr(b) ELSE '%' || upper(lpad(to_hex(b), 2, '0')) END, '' ORDER BY i), '')
  FROM (
    SELECT i, get_byte(convert_to(value, 'UTF8'), i) AS b
    FROM generate_series(0, octet_length(convert_to(value, 'UTF8')) - 1) AS i
  ) AS bytes
$$;

UPDATE subscriptions SET consumer = '/sub/' || pg_temp.herald_uri_component(consumer)
WHERE consumer !~ '^/(org|user|organisation)/';
UPDATE subscriptions SET created_by = '/sub/' || pg_temp.herald_uri_component(created_by)
WHERE created_by !~ '^/(org|user|organisation)/';

DROP FUNCTION pg_temp.herald_uri_component(text);
