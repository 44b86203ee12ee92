-- The event log. `seq` is the commit order pollers follow; AUTOINCREMENT keeps it from ever going back,
-- even if the newest rows were deleted.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  resource TEXT NOT NULL,
  subject TEXT,
  alternativesubject TEXT,
  time TEXT,
  registered_at INTEGER NOT NULL,
  payload TEXT NOT NULL
);

-- Publishing is idempotent on (source, id).
CREATE UNIQUE INDEX events_source_id ON events (source, id);
-- `after=<event id>` lookups.
CREATE INDEX events_id ON events (id);
-- The polling filters, each in commit order.
CREATE INDEX events_resource_seq ON events (resource, seq);
CREATE INDEX events_source_seq ON events (source, seq);
CREATE INDEX events_subject_seq ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX events_alternativesubject_seq ON events (alternativesubject, seq) WHERE alternativesubject IS NOT NULL;
