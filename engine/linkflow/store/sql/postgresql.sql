-- PostgreSQL's part of the store's SQL: the queries that differ from SQLite's (sqlite.sql has
-- the same names). Writers lock what they read, so two events on the same records queue
-- rather than lose an update; timers are claimed with SKIP LOCKED, so several timer processes
-- never fire one twice; feed numbers come from a sequence, taken by linkflow_append_feed
-- (migration 0008), and readers read only the entries no transaction still in flight can come
-- before (feed, feed_head: docs/store.md, "The change feed on PostgreSQL").

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

-- change feed ---------------------------------------------------------------------------------

-- name: insert_feed_next
-- One step's feed entry, numbered as it is inserted (linkflow_append_feed, migration 0008).
SELECT linkflow_append_feed(
    ARRAY[CAST(? AS text)], ARRAY[CAST(? AS text)], ARRAY[CAST(? AS text)],
    ARRAY[CAST(? AS text)], ARRAY[CAST(? AS text)], ARRAY[CAST(? AS text)],
    ARRAY[CAST(? AS double precision)]);

-- name: append_feed
-- The feed entries of a batch of steps (a timer pass), given as one JSON array of rows
-- [instance, workflow, event, source, target, outcome, time], numbered consecutively in that
-- order; returns the first number.
WITH r AS (
    SELECT e.v, e.n FROM jsonb_array_elements(CAST(? AS jsonb)) WITH ORDINALITY AS e(v, n)
)
SELECT linkflow_append_feed(
    ARRAY(SELECT v->>0 FROM r ORDER BY n), ARRAY(SELECT v->>1 FROM r ORDER BY n),
    ARRAY(SELECT v->>2 FROM r ORDER BY n), ARRAY(SELECT v->>3 FROM r ORDER BY n),
    ARRAY(SELECT v->>4 FROM r ORDER BY n), ARRAY(SELECT v->>5 FROM r ORDER BY n),
    ARRAY(SELECT CAST(v->>6 AS double precision) FROM r ORDER BY n));

-- name: feed
-- Entries numbered above ?, oldest first, up to the watermark: only rows whose inserting
-- (sub)transaction id is below this snapshot's xmin, so every transaction that could still
-- add a lower number has ended (docs/store.md, "The change feed on PostgreSQL"). The row's
-- xmin is a 32-bit id: it is placed in the 64-bit ids below the snapshot's xmax (it cannot be
-- more than 2^31 older while unfrozen); a frozen row (xmin 2) is old by definition.
SELECT f.seq, f.instance, f.workflow, f.event, f.source, f.target, f.outcome, f.time
FROM feed AS f, pg_current_snapshot() AS s
WHERE f.seq > ?
  AND (CAST(CAST(f.xmin AS text) AS bigint) < 3
       OR ((CAST(CAST(pg_snapshot_xmax(s) AS text) AS bigint)
            - CAST(CAST(f.xmin AS text) AS bigint)) % 4294967296 + 4294967296) % 4294967296
          > CAST(CAST(pg_snapshot_xmax(s) AS text) AS bigint)
            - CAST(CAST(pg_snapshot_xmin(s) AS text) AS bigint))
ORDER BY f.seq LIMIT ?;

-- name: feed_head
-- The newest entry a reader may read now (as `feed` decides), 0 for none: read down from the
-- newest number, past the few entries still above the watermark.
SELECT f.seq
FROM feed AS f, pg_current_snapshot() AS s
WHERE CAST(CAST(f.xmin AS text) AS bigint) < 3
   OR ((CAST(CAST(pg_snapshot_xmax(s) AS text) AS bigint)
        - CAST(CAST(f.xmin AS text) AS bigint)) % 4294967296 + 4294967296) % 4294967296
      > CAST(CAST(pg_snapshot_xmax(s) AS text) AS bigint)
        - CAST(CAST(pg_snapshot_xmin(s) AS text) AS bigint)
ORDER BY f.seq DESC LIMIT 1;

-- name: lock_instances
-- The instance rows of a batch of events, locked in id order before any step runs: two
-- batches that share instances queue at the first one they share instead of deadlocking
-- (core.py, "Lock order").
SELECT id FROM instances WHERE id = ANY(CAST(? AS text[])) ORDER BY id FOR UPDATE;
