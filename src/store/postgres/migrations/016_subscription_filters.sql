-- A subscription's filter expressions (the CloudEvents Subscriptions API's dialects, docs/filters.md): JSON text,
-- the array as its owner gave it (text, not jsonb, which would reorder its keys); null for none. Matching reads
-- them in TypeScript (the match index), which hands publishing the matched subscription ids as before, so no
-- function changes.
ALTER TABLE subscriptions ADD COLUMN filters text;
