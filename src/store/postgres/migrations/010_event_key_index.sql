-- One index for an event's key instead of two (docs/storage.md#the-events-indexes). Events with a source per
-- instance and a GUID id land at random places in every index keyed by them: each such insert dirties a page
-- that no neighbour shares, whose whole image goes to the WAL the first time after every checkpoint, and
-- which is read from the OS when shared_buffers does not hold it. Measured with bench/raw on a log of a
-- million Altinn-shaped events, batches of 800: 2.1 shared-buffer misses and 66–85 µs of backend CPU per
-- event with the two, 1.9 and 59–73 µs with this one (bench/raw/README.md).
--
-- The primary key of event_keys becomes (id, source): still unique on the pair, so publishing stays
-- idempotent (herald_append's ON CONFLICT (source, id) names the same columns, in any order), and with id
-- first it serves `after=<id>` lookups without a source too, which had their own index, event_keys_id.
-- A poll's source filter keeps events_source_seq: PostgreSQL looks a source up there within the bounded read.
ALTER TABLE event_keys DROP CONSTRAINT event_keys_pkey;
ALTER TABLE event_keys ADD PRIMARY KEY (id, source);
DROP INDEX event_keys_id;
