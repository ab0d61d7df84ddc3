-- The store's SQL, shared by both dialects: one named query each, run only by the store.
--
-- A query starts at its `-- name: ...` line; comment lines right after it say why it is as it
-- is. Placeholders are `?` (the PostgreSQL backend sends them as psycopg's `%s`). The
-- instance columns are always selected in the order records.INSTANCE_COLUMNS reads them.
-- What differs between SQLite and PostgreSQL (row locks, claiming timers, handing out feed
-- numbers) is in sqlite.sql and postgresql.sql, under the same names in both.

-- definitions ---------------------------------------------------------------------------------

-- name: insert_definition
-- A version already stored is only marked registered again (the newest of a name wins).
INSERT INTO definitions (hash, name, file, source, registered, services_source)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (hash) DO UPDATE SET registered = excluded.registered;

-- name: definition_by_name
SELECT hash, name, file, source FROM definitions
WHERE name = ?
ORDER BY registered DESC, hash LIMIT 1;

-- name: definition_by_hash_prefix
-- A prefix p covers the hashes from p up to p followed by "g" (past every hex digit).
SELECT hash, name, file, source FROM definitions
WHERE hash >= ? AND hash < ?
ORDER BY hash LIMIT 1;

-- name: definition_names
SELECT DISTINCT name FROM definitions ORDER BY 1;

-- name: definition_source
SELECT source, file, services_source FROM definitions WHERE hash = ?;

-- name: latest_definition_hash
SELECT hash FROM definitions WHERE name = ? ORDER BY registered DESC, hash LIMIT 1;

-- instances -----------------------------------------------------------------------------------

-- name: instance
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session
FROM instances WHERE id = ?;

-- name: insert_instance
INSERT INTO instances (id, workflow, definition, state, data, start_data, outcome, version,
                       created, updated, entered, due, session, hop)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: update_instance
UPDATE instances SET state = ?, data = ?, outcome = ?, version = ?, updated = ?,
                     entered = ?, due = ?
WHERE id = ?;

-- name: instance_hop
SELECT hop FROM instances WHERE id = ?;

-- name: session_head
-- The newest instance of a handoff chain.
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session
FROM instances WHERE session = ?
ORDER BY hop DESC LIMIT 1;

-- name: session_members
-- A handoff chain as one run: its entry instance first, then each it handed off to.
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session
FROM instances WHERE session = ?
ORDER BY hop;

-- name: instances_page
-- Newest first, by `{order}` (`created`, or `updated` for a listing with an update-time
-- range; store/listing.py puts one of the two names in, never a value it was given). `{where}`
-- is the filters given, each one of the `filter_*` fragments below joined by AND (or nothing):
-- one fixed condition per filter keeps the listing indexes usable (store/listing.py says which
-- index a page reads).
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session
FROM instances{where}
ORDER BY {order} DESC, id DESC LIMIT ?;

-- name: instances_window
-- A page with filters no index answers (`{residual}`): they are checked on a window of at
-- most ? rows of the driving index's range, so a page reads a bounded number of rows. The
-- LIMIT inside keeps the two levels apart (neither database moves the outer filters in), and
-- both read its rows in its order (SQLite's co-routine, PostgreSQL's Subquery Scan over a
-- Limit), so the outer level needs no ORDER BY (a sort would be a temp B-tree per page) and
-- stops at the page's last match.
SELECT id, workflow, definition, state, data, start_data, outcome, version,
       created, updated, entered, due, session
FROM (
    SELECT id, workflow, definition, state, data, start_data, outcome, version,
           created, updated, entered, due, session
    FROM instances{where}
    ORDER BY {order} DESC, id DESC LIMIT ?
) AS window_rows
WHERE {residual}
LIMIT ?;

-- name: window_edge
-- The last row of a full window (none when the range ended inside it): where the next page
-- of a bounded scan starts.
SELECT {order}, id FROM instances{where}
ORDER BY {order} DESC, id DESC LIMIT 1 OFFSET ?;

-- name: filter_workflow
workflow = ?;

-- name: filter_state
state = ?;

-- name: filter_state_within
-- The state, a state inside it, or a parallel state's configuration (leaves joined by +)
-- holding it or a state inside it: X itself, X.%, X+%, %+X, %+X+%, %+X.% (X escaped).
(state = ? OR state LIKE ? ESCAPE '\' OR state LIKE ? ESCAPE '\' OR state LIKE ? ESCAPE '\'
    OR state LIKE ? ESCAPE '\' OR state LIKE ? ESCAPE '\');

-- name: filter_outcome
outcome = ?;

-- name: filter_created_from
created >= ?;

-- name: filter_created_to
created < ?;

-- name: filter_updated_from
updated >= ?;

-- name: filter_updated_to
updated < ?;

-- name: filter_after_created
-- Keyset paging: after the (created, id) of the last instance of the previous page. A row
-- value, so both databases start the index range there (an OR would read from the top).
(created, id) < (?, ?);

-- name: filter_after_updated
(updated, id) < (?, ?);

-- history -------------------------------------------------------------------------------------

-- name: history
SELECT seq, time, event, source, target, accepted, payload, refusal, event_id, actor
FROM history WHERE instance = ? ORDER BY seq;

-- name: mark_operator
-- An operator action (store/operator.py): its entry, the instance's newest, says which action
-- and who did it (JSON).
UPDATE history SET actor = ?
WHERE instance = ? AND seq = (SELECT MAX(seq) FROM history WHERE instance = ?);

-- name: insert_history
-- An entry's number is the instance's next one, taken in the insert itself.
INSERT INTO history (instance, seq, time, event, source, target, accepted, payload,
                     refusal, transition, event_id, request, answer)
VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM history WHERE instance = ?),
        ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: step_by_event_id
-- The step an event id was recorded with (sending it again replays that step), with the
-- first answer (NULL for entries recorded before schema version 3).
SELECT event, source, target, refusal, transition, request, answer, seq, accepted FROM history
WHERE instance = ? AND event_id = ?;

-- name: accepted_up_to
-- Accepted entries of an instance up to an entry: its version after that entry.
SELECT COUNT(*) FROM history WHERE instance = ? AND seq <= ? AND accepted = 1;

-- name: handed_instance
-- The instance a handoff started from an instance: the next hop of its session.
SELECT id FROM instances WHERE session = ? AND hop = (
    SELECT hop + 1 FROM instances WHERE id = ?);

-- timers --------------------------------------------------------------------------------------

-- name: due_ids
-- Due timers to fire one transaction each (after a batch failed), without claiming them.
SELECT id FROM instances
WHERE due IS NOT NULL AND due <= ?
ORDER BY due, id LIMIT ?;

-- name: stop_timer
-- The definition has no timeout here (or its step failed): the instance is not fired again.
UPDATE instances SET due = NULL WHERE id = ?;

-- name: next_due
SELECT MIN(due) FROM instances WHERE due IS NOT NULL;

-- world ---------------------------------------------------------------------------------------

-- name: world_record
SELECT record FROM world WHERE collection = ? AND key = ?;

-- name: insert_world_record
INSERT INTO world (collection, key, record, version) VALUES (?, ?, ?, 1);

-- name: update_world_record
UPDATE world SET record = ?, version = version + 1 WHERE collection = ? AND key = ?;

-- name: delete_world_record
DELETE FROM world WHERE collection = ? AND key = ?;

-- name: load_world_record
-- An imported record replaces the stored one of its key.
INSERT INTO world (collection, key, record, version) VALUES (?, ?, ?, 1)
ON CONFLICT (collection, key) DO UPDATE
SET record = excluded.record, version = world.version + 1;

-- name: world_collection
SELECT key, record FROM world WHERE collection = ? ORDER BY key;

-- name: world_key
SELECT key, record FROM world WHERE collection = ? AND key = ?;

-- group commit --------------------------------------------------------------------------------

-- name: savepoint
-- Each event of a batch runs in its own savepoint: one that fails is undone alone.
SAVEPOINT linkflow_event;

-- name: rollback_to_savepoint
ROLLBACK TO SAVEPOINT linkflow_event;

-- name: release_savepoint
RELEASE SAVEPOINT linkflow_event;

-- retention (linkflow prune) ------------------------------------------------------------------

-- name: prunable_count
-- What `prune --dry-run` reports: finished instances whose whole session (handoff chain)
-- finished before the date, as `prune_claim` would take them.
SELECT COUNT(*) FROM instances i
WHERE i.outcome IS NOT NULL AND i.updated < ?
  AND NOT EXISTS (
      SELECT 1 FROM instances o
      WHERE o.session = i.session AND (o.outcome IS NULL OR o.updated >= ?));

-- name: prune_history
-- An instance's history: its steps and the first answers to its event ids (idempotency).
DELETE FROM history WHERE instance = ?;

-- name: prune_instance
DELETE FROM instances WHERE id = ?;
