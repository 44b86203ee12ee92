-- One index for an event's key instead of three (docs/storage.md#the-events-indexes). Events with a source
-- per instance and a GUID id land at random places in every index keyed by them, and each such insert
-- rewrites a whole page into the write-ahead log at commit and again at the checkpoint. Measured with
-- bench/raw on a log of a million Altinn-shaped events, batches of 800: 4,700–5,400 events/s, 69–102 µs of
-- CPU and 39–41 KiB written per event with the three; 7,300–8,800 events/s, 51–58 µs and 27–29 KiB with
-- this one (bench/raw/README.md).
--
-- (id, source) is unique as (source, id) was, so publishing stays idempotent (ON CONFLICT (source, id)
-- names the same columns), and with id first it serves `after=<id>` lookups without a source too, which
-- had their own index. `(source, seq)` served nothing: a poll's source filter is read along the primary key
-- within the bounded examination (docs/storage.md#bounded-reads), and SQLite plans it so with or without it.
CREATE UNIQUE INDEX events_id_source ON events (id, source);
DROP INDEX events_source_id;
DROP INDEX events_id;
DROP INDEX events_source_seq;
