-- Webhook subscribers and deliveries (store/webhooks.py), shared by SQLite and PostgreSQL but
-- for the claim, named per dialect (claim_sqlite, claim_postgresql). A statement whose effect
-- the code checks says so with RETURNING (a pipelined PostgreSQL transaction has no row count).

-- name: insert_subscriber
INSERT INTO webhook_subscribers (id, url, events, secret_file, created, scanned)
VALUES (?, ?, ?, ?, ?, ?);

-- name: subscribers
SELECT s.id, s.url, s.events, s.secret_file, s.created, s.scanned, s.delivered,
       s.last_delivered, s.failures, s.last_error,
       (SELECT COUNT(*) FROM webhook_deliveries d
        WHERE d.subscriber = s.id AND d.state = 'pending' AND d.attempts = 0),
       (SELECT COUNT(*) FROM webhook_deliveries d
        WHERE d.subscriber = s.id AND d.state = 'pending' AND d.attempts > 0),
       (SELECT COUNT(*) FROM webhook_deliveries d
        WHERE d.subscriber = s.id AND d.state = 'dead')
FROM webhook_subscribers s ORDER BY s.created, s.id;

-- name: delete_subscriber
DELETE FROM webhook_subscribers WHERE id = ? RETURNING id;

-- name: delete_deliveries
DELETE FROM webhook_deliveries WHERE subscriber = ?;

-- name: requeue_dead
UPDATE webhook_deliveries SET state = 'pending', attempts = 0, due = ?
WHERE subscriber = ? AND state = 'dead' RETURNING seq;

-- name: any_subscriber
SELECT 1 FROM webhook_subscribers LIMIT 1;

-- name: subscriber_exists
SELECT 1 FROM webhook_subscribers WHERE id = ?;

-- name: claim_sqlite
-- One writer at a time (BEGIN IMMEDIATE): no row locks to skip.
UPDATE webhook_subscribers SET lease_owner = ?, lease_until = ?
WHERE lease_owner IS NULL OR lease_owner = ? OR lease_until < ?
RETURNING id, url, events, secret_file, scanned;

-- name: claim_postgresql
-- Rows another deliverer is claiming right now are skipped, not waited for.
UPDATE webhook_subscribers SET lease_owner = ?, lease_until = ?
WHERE id IN (
    SELECT id FROM webhook_subscribers
    WHERE lease_owner IS NULL OR lease_owner = ? OR lease_until < ?
    FOR UPDATE SKIP LOCKED)
RETURNING id, url, events, secret_file, scanned;

-- name: renew
UPDATE webhook_subscribers SET lease_until = ? WHERE lease_owner = ?;

-- name: release
UPDATE webhook_subscribers SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?;

-- name: insert_delivery
INSERT INTO webhook_deliveries (subscriber, seq, instance, state, attempts, due)
VALUES (?, ?, ?, 'pending', 0, ?);

-- name: advance_scanned
UPDATE webhook_subscribers SET scanned = ? WHERE id = ? AND lease_owner = ? AND scanned < ? RETURNING id;

-- name: due_heads
-- For each instance, its oldest open delivery, when it is due: a later entry of an instance
-- waits until the earlier ones were delivered or dead-lettered.
SELECT d.seq, d.attempts, f.instance, f.workflow, f.event, f.source, f.target, f.outcome,
       f.time
FROM webhook_deliveries d JOIN feed f ON f.seq = d.seq
WHERE d.subscriber = ? AND d.state = 'pending' AND d.due <= ?
  AND NOT EXISTS (
    SELECT 1 FROM webhook_deliveries e
    WHERE e.subscriber = d.subscriber AND e.instance = d.instance AND e.state = 'pending'
      AND e.seq < d.seq)
ORDER BY d.seq LIMIT ?;

-- name: next_due
SELECT MIN(due) FROM webhook_deliveries WHERE subscriber = ? AND state = 'pending';

-- name: delivered
DELETE FROM webhook_deliveries WHERE subscriber = ? AND seq = ? AND state = 'pending'
RETURNING seq;

-- name: count_delivered
UPDATE webhook_subscribers
SET delivered = delivered + 1,
    last_delivered = CASE WHEN last_delivered IS NULL OR last_delivered < ? THEN ?
                          ELSE last_delivered END
WHERE id = ?;

-- name: failed
UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, due = ?, last_error = ?
WHERE subscriber = ? AND seq = ? AND state = 'pending' RETURNING seq;

-- name: count_failed
UPDATE webhook_subscribers SET failures = failures + 1, last_error = ? WHERE id = ?;

-- name: dead_deliveries
SELECT seq, instance, attempts, last_error FROM webhook_deliveries
WHERE subscriber = ? AND state = 'dead' ORDER BY seq;
