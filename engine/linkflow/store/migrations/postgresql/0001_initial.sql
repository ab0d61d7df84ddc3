-- Schema version 1: definitions, instances, history, world records, change feed.
CREATE TABLE definitions (
    hash       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    file       TEXT NOT NULL,
    source     TEXT NOT NULL,
    registered DOUBLE PRECISION NOT NULL
);
CREATE INDEX definitions_by_name ON definitions (name, registered);

CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    workflow   TEXT NOT NULL,
    definition TEXT NOT NULL REFERENCES definitions (hash),
    state      TEXT NOT NULL,
    data       TEXT NOT NULL,
    start_data TEXT NOT NULL,
    outcome    TEXT,
    version    INTEGER NOT NULL,
    created    DOUBLE PRECISION NOT NULL,
    updated    DOUBLE PRECISION NOT NULL,
    entered    DOUBLE PRECISION NOT NULL,
    due        DOUBLE PRECISION,
    session    TEXT NOT NULL,
    hop        INTEGER NOT NULL
);
CREATE INDEX instances_due ON instances (due) WHERE due IS NOT NULL;
CREATE INDEX instances_session ON instances (session, hop);

-- Clustered by instance (SQLite: WITHOUT ROWID): an entry is one page write, and an
-- instance's history is read from one place; `seq` counts the instance's entries from 1.
CREATE TABLE history (
    instance   TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    time       DOUBLE PRECISION NOT NULL,
    event      TEXT NOT NULL,
    source     TEXT NOT NULL,
    target     TEXT NOT NULL,
    accepted   INTEGER NOT NULL,
    payload    TEXT,
    refusal    TEXT,
    transition INTEGER,
    event_id   TEXT,
    request    TEXT,
    PRIMARY KEY (instance, seq)
);
CREATE UNIQUE INDEX history_event_ids ON history (instance, event_id) WHERE event_id IS NOT NULL;

CREATE TABLE world (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    record     TEXT NOT NULL,
    version    INTEGER NOT NULL,
    PRIMARY KEY (collection, key)
);

-- Feed numbers come from one counter row, locked by each appending transaction until it
-- commits: numbers become visible in order, so a reader following `seq > N` misses none.
CREATE TABLE feed_head (seq BIGINT NOT NULL);
INSERT INTO feed_head VALUES (0);

CREATE TABLE feed (
    seq      BIGINT PRIMARY KEY,
    instance TEXT NOT NULL,
    workflow TEXT NOT NULL,
    event    TEXT NOT NULL,
    source   TEXT NOT NULL,
    target   TEXT NOT NULL,
    outcome  TEXT,
    time     DOUBLE PRECISION NOT NULL
);
