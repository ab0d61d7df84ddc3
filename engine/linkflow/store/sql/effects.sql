-- The effects outbox (store/outbox.py), shared by SQLite and PostgreSQL but for the claim,
-- named per dialect (claim_sqlite, claim_postgresql). A statement whose effect the code checks
-- says so with RETURNING (a pipelined PostgreSQL transaction has no row count).

-- name: insert_effect
-- In the causing step's transaction: one statement for all of a step's effects (executemany).
INSERT INTO effects (id, instance_id, version, idx, kind, name, call_json, idempotency_key,
                     state, entered, status, attempts, due, created, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?);

-- name: claim_sqlite
-- One writer at a time (BEGIN IMMEDIATE): no row locks to skip. A running effect whose lease
-- ran out belongs to a worker that stopped: it is taken over. Each claim counts an attempt.
UPDATE effects SET status = 'running', lease_owner = ?, lease_until = ?, updated = ?,
       attempts = attempts + 1
WHERE id IN (
    SELECT id FROM effects
    WHERE (status = 'pending' AND due <= ?) OR (status = 'running' AND lease_until < ?)
    ORDER BY due LIMIT ?)
RETURNING id, instance_id, version, idx, call_json, idempotency_key, entered, attempts,
          generation;

-- name: claim_postgresql
-- Rows another worker is claiming right now are skipped, not waited for.
UPDATE effects SET status = 'running', lease_owner = ?, lease_until = ?, updated = ?,
       attempts = attempts + 1
WHERE id IN (
    SELECT id FROM effects
    WHERE (status = 'pending' AND due <= ?) OR (status = 'running' AND lease_until < ?)
    ORDER BY due LIMIT ?
    FOR UPDATE SKIP LOCKED)
RETURNING id, instance_id, version, idx, call_json, idempotency_key, entered, attempts,
          generation;

-- name: renew
UPDATE effects SET lease_until = ? WHERE lease_owner = ? AND status = 'running';

-- name: release
-- A worker that stops cleanly hands back what it claimed and did not finish.
UPDATE effects SET status = 'pending', lease_owner = NULL, lease_until = NULL, updated = ?
WHERE lease_owner = ? AND status = 'running';

-- name: finish
-- Only the worker that holds the claim ends it (one that lost its lease writes nothing).
UPDATE effects SET status = ?, last_error = ?, result = ?, updated = ?,
       lease_owner = NULL, lease_until = NULL
WHERE id = ? AND lease_owner = ? AND status = 'running' RETURNING id;

-- name: reschedule
UPDATE effects SET status = 'pending', due = ?, last_error = ?, updated = ?,
       lease_owner = NULL, lease_until = NULL
WHERE id = ? AND lease_owner = ? AND status = 'running' RETURNING id;

-- name: requeue
-- An operator's retry: a dead or failed effect is attempted again from its first attempt.
UPDATE effects SET status = 'pending', attempts = 0, due = ?, updated = ?,
       generation = generation + 1, lease_owner = NULL, lease_until = NULL
WHERE id = ? AND status IN ('dead', 'failed') RETURNING id;

-- name: next_due
SELECT MIN(due) FROM effects WHERE status = 'pending';

-- name: lease_ends
SELECT MIN(lease_until) FROM effects WHERE status = 'running';

-- name: counts
SELECT status, COUNT(*), SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END)
FROM effects GROUP BY status;

-- name: instance_counts
SELECT status, COUNT(*), SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END)
FROM effects WHERE instance_id = ? GROUP BY status;

-- name: effect
SELECT id, instance_id, version, idx, kind, name, call_json, idempotency_key, state, entered,
       status, attempts, due, last_error, result, generation, created, updated
FROM effects WHERE id = ?;

-- name: of_instance
SELECT id, instance_id, version, idx, kind, name, call_json, idempotency_key, state, entered,
       status, attempts, due, last_error, result, generation, created, updated
FROM effects WHERE instance_id = ? ORDER BY version, idx;

-- name: page
-- Newest first, keyset: the (created, id) of the last row of a page starts the next.
SELECT id, instance_id, version, idx, kind, name, call_json, idempotency_key, state, entered,
       status, attempts, due, last_error, result, generation, created, updated
FROM effects WHERE (created, id) < (?, ?) ORDER BY created DESC, id DESC LIMIT ?;

-- name: page_by_status
SELECT id, instance_id, version, idx, kind, name, call_json, idempotency_key, state, entered,
       status, attempts, due, last_error, result, generation, created, updated
FROM effects WHERE status = ? AND (created, id) < (?, ?)
ORDER BY created DESC, id DESC LIMIT ?;

-- name: page_by_instance
SELECT id, instance_id, version, idx, kind, name, call_json, idempotency_key, state, entered,
       status, attempts, due, last_error, result, generation, created, updated
FROM effects WHERE instance_id = ? AND (created, id) < (?, ?)
ORDER BY created DESC, id DESC LIMIT ?;

-- name: page_by_both
SELECT id, instance_id, version, idx, kind, name, call_json, idempotency_key, state, entered,
       status, attempts, due, last_error, result, generation, created, updated
FROM effects WHERE status = ? AND instance_id = ? AND (created, id) < (?, ?)
ORDER BY created DESC, id DESC LIMIT ?;

-- name: instance_place
-- Where the instance is now: a result for a state it left or re-entered since is late, and
-- so is one for an instance that ended in its state (terminated by an operator).
SELECT state, entered, outcome FROM instances WHERE id = ?;

-- name: invoked_again
-- Whether the state that placed an invoke placed another since (it was left and entered
-- again): in a parallel state, where any region's step sets the one entry time.
SELECT 1 FROM effects WHERE instance_id = ? AND version > ? AND kind = 'invoke' AND state = ?
LIMIT 1;
