-- SQLite's part of the store's SQL: the queries that differ from PostgreSQL's (postgresql.sql
-- has the same names). BEGIN IMMEDIATE makes a writer the only one until it commits, so
-- nothing it reads needs a row lock and feed numbers need no counter.

-- name: instance_for_update
-- The last column: SQLite's data version, which moves when another connection commits
-- (what this process remembers is checked against it: store/cache.py).
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session, (SELECT data_version FROM pragma_data_version())
FROM instances WHERE id = ?;

-- name: update_instance_checked
-- One step's instance row, if it is still at the version the step started from (no row
-- returned: it is not); returns the data version as instance_for_update does.
UPDATE instances SET state = ?, data = ?, outcome = ?, version = ?, updated = ?,
                     entered = ?, due = ?
WHERE id = ? AND version = ?
RETURNING (SELECT data_version FROM pragma_data_version());

-- name: insert_history_checked
-- A refused step's history entry (its number the instance's next one), returning the data
-- version as instance_for_update does.
INSERT INTO history (instance, seq, time, event, source, target, accepted, payload,
                     refusal, transition, event_id, request, answer)
VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM history WHERE instance = ?),
        ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING (SELECT data_version FROM pragma_data_version());


-- name: world_record_for_update
SELECT record FROM world WHERE collection = ? AND key = ?;

-- name: claim_due
-- Up to ? due instances, the earliest first.
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session
FROM instances
WHERE due IS NOT NULL AND due <= ?
ORDER BY due, id LIMIT ?;

-- name: claim_due_instance
-- One instance, if it is still due (another process may have fired it first).
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session
FROM instances WHERE id = ? AND due IS NOT NULL AND due <= ?;

-- name: prune_claim
-- Up to ? finished instances to delete, the longest finished first: each finished before the
-- date, and so did every other member of its session (a handoff chain goes whole or not at
-- all). No lock needed: BEGIN IMMEDIATE makes the pruner the only writer.
SELECT i.id FROM instances i
WHERE i.outcome IS NOT NULL AND i.updated < ?
  AND NOT EXISTS (
      SELECT 1 FROM instances o
      WHERE o.session = i.session AND (o.outcome IS NULL OR o.updated >= ?))
ORDER BY i.updated, i.id LIMIT ?;

-- name: filter_data
-- A data field (a dotted path: its parameters are the path and the JSON value, twice) equals
-- a JSON scalar: the same value and the same JSON type (true is not 1; a missing field is not
-- null).
(json_extract(data, '$.' || ?) IS json_extract(?, '$')
 AND json_type(data, '$.' || ?) IS json_type(?));

-- change feed ---------------------------------------------------------------------------------
-- The only writer numbers entries as it inserts them, so numbers become visible in commit
-- order and a reader needs no watermark (postgresql.sql's readers do).

-- name: insert_feed_next
-- One step's feed entry, numbered in the insert: `seq` is the rowid, one above the highest (the
-- only writer, and entries are never deleted).
INSERT INTO feed (instance, workflow, event, source, target, outcome, time)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING seq;

-- name: append_feed
-- The feed entries of a batch of steps (a timer pass), given as one JSON array of rows
-- [instance, workflow, event, source, target, outcome, time], numbered consecutively after the
-- highest in that order; returns their numbers (the SELECT is read in full before inserting).
INSERT INTO feed (seq, instance, workflow, event, source, target, outcome, time)
SELECT (SELECT COALESCE(MAX(seq), 0) FROM feed) + CAST(key AS INTEGER) + 1,
       json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
       json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'),
       json_extract(value, '$[6]')
FROM json_each(?) ORDER BY CAST(key AS INTEGER)
RETURNING seq;

-- name: feed
-- Entries numbered above ?, oldest first.
SELECT seq, instance, workflow, event, source, target, outcome, time
FROM feed WHERE seq > ? ORDER BY seq LIMIT ?;

-- name: feed_head
-- The newest entry (0 for none).
SELECT seq FROM feed ORDER BY seq DESC LIMIT 1;

-- name: lock_instances
-- Not run (`Backend.serial`): BEGIN IMMEDIATE made this writer the only one. Named as in
-- postgresql.sql, where it locks a batch's instance rows in id order.
SELECT 1 WHERE ? IS NULL;
