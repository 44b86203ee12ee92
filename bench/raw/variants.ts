import type { ValidEvent } from '../../src/domain/cloudevent.js';

/**
 * A schema to measure, given to a copy of a log Herald migrated and filled: the runner first drops every
 * index on the log's tables (so each variant is a complete set, whatever the migrations made), then runs the
 * variant's DDL.
 */
export interface SqliteSchema {
  readonly ddl: string;
  /** An INSERT with `?` placeholders and its values, for variants that store other columns than Herald. */
  readonly insert?: string;
  readonly bind?: (e: ValidEvent, now: number) => unknown[];
}

export interface PostgresSchema {
  /** Runs after the indexes of `events` and `event_keys` are dropped (the primary keys are kept). */
  readonly ddl: string;
}

export interface Variant {
  readonly name: string;
  readonly about: string;
  readonly sqlite?: SqliteSchema;
  readonly postgres?: PostgresSchema;
}

const sqliteFilters = `
CREATE INDEX events_resource_seq ON events (resource, seq);
CREATE INDEX events_subject_seq ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX events_alternativesubject_seq ON events (alternativesubject, seq) WHERE alternativesubject IS NOT NULL;`;

const postgresFilters = `
CREATE INDEX events_resource_seq ON events (resource, seq);
CREATE INDEX events_subject_seq ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX events_alternativesubject_seq ON events (alternativesubject, seq) WHERE alternativesubject IS NOT NULL;
CREATE INDEX event_keys_seq ON event_keys (seq);`;

/** The PostgreSQL primary key of event_keys, (source, id) today. */
const keysBy = (columns: string) => `
ALTER TABLE event_keys DROP CONSTRAINT event_keys_pkey;
ALTER TABLE event_keys ADD PRIMARY KEY (${columns});`;

export const variants: readonly Variant[] = [
  {
    name: 'today',
    about: 'migrations 001/004: unique (source, id), id, (source, seq) and the filter indexes',
    sqlite: {
      ddl: `CREATE UNIQUE INDEX events_source_id ON events (source, id);
        CREATE INDEX events_id ON events (id);
        CREATE INDEX events_source_seq ON events (source, seq);${sqliteFilters}`,
    },
    postgres: {
      ddl: `${keysBy('source, id')}
        CREATE INDEX event_keys_id ON event_keys (id);
        CREATE INDEX events_source_seq ON events (source, seq);${postgresFilters}`,
    },
  },
  {
    name: 'id-source',
    about: 'unique (id, source) serves conflicts and `after` ids; (source, seq) kept',
    sqlite: {
      ddl: `CREATE UNIQUE INDEX events_id_source ON events (id, source);
        CREATE INDEX events_source_seq ON events (source, seq);${sqliteFilters}`,
    },
    postgres: {
      ddl: `${keysBy('id, source')}
        CREATE INDEX events_source_seq ON events (source, seq);${postgresFilters}`,
    },
  },
  {
    name: 'source-id',
    about: 'unique (source, id) serves conflicts and source filters; id index kept; no (source, seq)',
    sqlite: {
      ddl: `CREATE UNIQUE INDEX events_source_id ON events (source, id);
        CREATE INDEX events_id ON events (id);${sqliteFilters}`,
    },
  },
  {
    name: 'id-key',
    about: 'unique (id, source) serves conflicts and `after` ids; no source index (bounded source polls scan the primary key, as SQLite plans them today)',
    sqlite: {
      ddl: `CREATE UNIQUE INDEX events_id_source ON events (id, source);${sqliteFilters}`,
    },
    postgres: {
      ddl: `${keysBy('id, source')}${postgresFilters}`,
    },
  },
  {
    name: 'keys-only',
    about: 'reference: unique (source, id) and (resource, seq) only; subject, source and id filters unserved',
    sqlite: {
      ddl: `CREATE UNIQUE INDEX events_source_id ON events (source, id);
        CREATE INDEX events_resource_seq ON events (resource, seq);`,
    },
    postgres: { ddl: `${keysBy('source, id')} CREATE INDEX events_resource_seq ON events (resource, seq); CREATE INDEX event_keys_seq ON event_keys (seq);` },
  },
];
