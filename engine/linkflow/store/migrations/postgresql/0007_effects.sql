-- Schema version 7: the effects outbox (store/outbox.py) and the services a definition calls.
-- A step's effects (runtime/effect_calls.py) are written here in the step's own transaction and
-- performed later by a worker (effects/worker.py), never inside it. `call_json` is the EffectCall's
-- JSON: it names where a secret is read (auth), never holds one. `idempotency_key` is sent
-- as the Idempotency-Key header, the same on every attempt; UNIQUE, so a step written twice
-- (it cannot be: the step's transaction writes it once) would fail rather than call twice.
-- `state` and `entered`: the state that invoked and when the instance entered it, to tell a
-- late answer (the instance left or re-entered that state since) from a current one.
-- A worker holds a claimed effect while `lease_until` is ahead; then another may take it.
-- `generation` counts operator retries (`linkflow effects retry`): an invoke's result event id
-- carries it, so a retried call's answer is a new event, not a replay of the first.
CREATE TABLE effects (
    id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    call_json TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    entered DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due DOUBLE PRECISION NOT NULL,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION,
    last_error TEXT,
    result TEXT,
    generation INTEGER NOT NULL DEFAULT 0,
    created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL
);
-- Claiming: the due pending ones, and running ones whose lease ran out, oldest due first.
CREATE INDEX effects_due ON effects (status, due);
CREATE INDEX effects_by_instance ON effects (instance_id, version, idx);
-- The listing (`linkflow effects list`, GET /effects): newest first, keyset (created, id).
CREATE INDEX effects_listing ON effects (created, id);
ALTER TABLE definitions ADD COLUMN services_source TEXT NOT NULL DEFAULT '';
