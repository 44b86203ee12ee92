-- The event log. `seq` is the commit order pollers follow: writers take an advisory lock before drawing
-- numbers, so a higher seq never commits before a lower one (see docs/poll.md).
-- Text columns use the "C" collation: byte-wise comparison, as in SQLite, and btree indexes that serve
-- `LIKE 'prefix%'` for source wildcards.
CREATE TABLE events (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text COLLATE "C" NOT NULL,
  source text COLLATE "C" NOT NULL,
  type text COLLATE "C" NOT NULL,
  resource text COLLATE "C" NOT NULL,
  subject text COLLATE "C",
  alternativesubject text COLLATE "C",
  time timestamptz,
  registered_at timestamptz NOT NULL DEFAULT now(),
  payload json NOT NULL
);

CREATE UNIQUE INDEX events_source_id ON events (source, id);
CREATE INDEX events_id ON events (id);
CREATE INDEX events_resource_seq ON events (resource, seq);
CREATE INDEX events_source_seq ON events (source, seq);
CREATE INDEX events_subject_seq ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX events_alternativesubject_seq ON events (alternativesubject, seq) WHERE alternativesubject IS NOT NULL;
