-- PostgreSQL's part of the store's SQL: the queries that differ from SQLite's (sqlite.sql has
-- the same names). Writers lock what they read, so two events on the same records queue
-- rather than lose an update; timers are claimed with SKIP LOCKED, so several timer processes
-- never fire one twice; feed numbers come from a counter row, locked until commit, and
-- locked first of all by every writer (take_feed_head: core.py, "Lock order").

-- name: instance_for_update
-- The last column is SQLite's data version there (store/cache.py); none here.
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session, CAST(NULL AS bigint)
FROM instances WHERE id = ? FOR UPDATE;

-- name: update_instance_checked
-- Not run here: PostgreSQL's writers keep no cache to check (store/cache.py), so a step writes
-- its rows with update_instance and insert_history, pipelined. Named as in sqlite.sql, where
-- it is the instance row only if still at the version the step started from.
UPDATE instances SET state = ?, data = ?, outcome = ?, version = ?, updated = ?,
                     entered = ?, due = ?
WHERE id = ? AND version = ?
RETURNING CAST(NULL AS bigint);

-- name: insert_history_checked
-- Not run here either (see update_instance_checked).
INSERT INTO history (instance, seq, time, event, source, target, accepted, payload,
                     refusal, transition, event_id, request, answer)
VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM history WHERE instance = ?),
        ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING CAST(NULL AS bigint);

-- name: insert_feed_next
-- One step's feed entry, numbered from the counter row in the same statement (one round trip;
-- the row stays locked until commit, as for next_feed_seq).
WITH n AS (UPDATE feed_head SET seq = feed_head.seq + 1 RETURNING feed_head.seq)
INSERT INTO feed (seq, instance, workflow, event, source, target, outcome, time)
SELECT n.seq, ?, ?, ?, ?, ?, ?, CAST(? AS double precision) FROM n
RETURNING seq;


-- name: world_record_for_update
SELECT record FROM world WHERE collection = ? AND key = ? FOR UPDATE;

-- name: claim_due
-- Up to ? due instances, the earliest first, that no other process has claimed.
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session
FROM instances
WHERE due IS NOT NULL AND due <= ?
ORDER BY due, id LIMIT ?
FOR UPDATE SKIP LOCKED;

-- name: claim_due_instance
-- One instance, if it is still due and no other process holds it.
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session
FROM instances WHERE id = ? AND due IS NOT NULL AND due <= ?
FOR UPDATE SKIP LOCKED;

-- name: next_feed_seq
-- The first of ? consecutive feed numbers. The counter row stays locked until this
-- transaction commits: numbers become visible in order, so a reader that follows `seq > N`
-- never skips a late commit.
WITH n AS (SELECT CAST(? AS bigint) AS count)
UPDATE feed_head SET seq = feed_head.seq + n.count FROM n
RETURNING feed_head.seq - n.count + 1;

-- name: take_feed_head
-- The first lock of every write transaction but a start (core.py, "Lock order"): writers
-- queue here before they lock any instance row or world record, so none deadlocks.
SELECT seq FROM feed_head FOR UPDATE;

-- name: prune_claim
-- Up to ? finished instances to delete, the longest finished first: each finished before the
-- date, and so did every other member of its session (a handoff chain goes whole or not at
-- all). Locked, so an event sent to one meanwhile (refused, it would add a history entry)
-- waits and then finds no instance; rows another transaction holds are left for the next batch.
SELECT i.id FROM instances i
WHERE i.outcome IS NOT NULL AND i.updated < ?
  AND NOT EXISTS (
      SELECT 1 FROM instances o
      WHERE o.session = i.session AND (o.outcome IS NULL OR o.updated >= ?))
ORDER BY i.updated, i.id LIMIT ?
FOR UPDATE OF i SKIP LOCKED;

-- name: filter_data
-- A data field (a dotted path: its parameters are the path and the JSON value, twice) equals
-- a JSON scalar: jsonb equality compares the value and its type (true is not 1; a missing
-- field is not null). The type test repeats it so both dialects take the same parameters.
(jsonb_extract_path(data::jsonb, VARIADIC string_to_array(?, '.')) = ?::jsonb
 AND jsonb_typeof(jsonb_extract_path(data::jsonb, VARIADIC string_to_array(?, '.')))
     = jsonb_typeof(?::jsonb));
