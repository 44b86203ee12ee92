-- A subscription's filter expressions (the CloudEvents Subscriptions API's dialects, docs/filters.md): JSON text,
-- the array as its owner gave it; null for none. Matching reads them in TypeScript (the match index), so the
-- database only keeps them.
ALTER TABLE subscriptions ADD COLUMN filters TEXT;
