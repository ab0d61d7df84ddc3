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

-- name: insert_feed_next
-- One step's feed entry, numbered in the insert: `seq` is the rowid, one above the highest (the
-- only writer, and entries are never deleted).
INSERT INTO feed (instance, workflow, event, source, target, outcome, time)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING seq;


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

-- name: next_feed_seq
-- The first of ? consecutive feed numbers: the one after the highest (the only writer), for a
-- batch of steps (a timer pass); one step numbers its entry in insert_feed_next instead. The
-- count is bound, though not needed here, so that both dialects take the same parameters.
SELECT COALESCE(MAX(seq), 0) + 1 FROM feed WHERE ? > 0;

-- name: take_feed_head
-- Nothing to take, and not run (`Backend.serial`): BEGIN IMMEDIATE already queued the writer
-- behind every other one (the single-writer design needs no lock order: core.py, "Lock order").
SELECT 1;

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
