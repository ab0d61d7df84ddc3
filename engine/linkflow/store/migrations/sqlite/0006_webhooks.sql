-- Schema version 6: webhook subscribers and their deliveries (store/webhooks.py).
-- A subscriber names the file that holds its signing secret, never the secret itself: the
-- database holds no secret. `scanned` is the feed number read up to; an entry that matches the
-- subscriber's patterns becomes a delivery row, removed once delivered (the subscriber counts
-- it), kept as `dead` when it cannot be. A deliverer owns a subscriber while its lease runs.
CREATE TABLE webhook_subscribers (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret_file TEXT NOT NULL,
    created REAL NOT NULL,
    scanned INTEGER NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    last_delivered INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    lease_owner TEXT,
    lease_until REAL
);
CREATE TABLE webhook_deliveries (
    subscriber TEXT NOT NULL,
    seq INTEGER NOT NULL,
    instance TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due REAL NOT NULL,
    last_error TEXT,
    PRIMARY KEY (subscriber, seq)
);
CREATE INDEX webhook_deliveries_by_instance ON webhook_deliveries (subscriber, instance, seq);
