-- Schema version 8: feed numbers from a sequence, without a row every writer locks until it
-- commits (docs/store.md, "The change feed on PostgreSQL").
--
-- A writer appends its feed entries with linkflow_append_feed: under a session advisory lock
-- held for that one call (not until commit), the call opens a subtransaction, takes the next
-- numbers and inserts the rows; the rows' xmin is that subtransaction's id. So across all
-- writers, feed numbers and the ids of the subtransactions that inserted them rise together.
-- A reader reads only rows whose xmin is below its snapshot's xmin (every transaction below it
-- has ended): whatever commits later has a higher id and so a higher number, and a reader that
-- follows `seq > N` never skips it. A number whose transaction rolled back stays unused.
CREATE SEQUENCE feed_numbers AS bigint MINVALUE 1 CACHE 1;
SELECT setval('feed_numbers',
              GREATEST((SELECT seq FROM feed_head), (SELECT COALESCE(MAX(seq), 0) FROM feed)) + 1,
              false);
DROP TABLE feed_head;

-- Appends rows given as arrays of their columns (one element per entry, in order), numbered
-- consecutively; returns the first number. The lock is taken and let go inside the block, so
-- every way out of it lets it go (an error, a cancelled statement: the handler; a lost
-- connection ends the session), and the subtransaction's id is given out by the insert, under
-- the lock.
CREATE FUNCTION linkflow_append_feed(
    instances text[], workflows text[], events text[], sources text[], targets text[],
    outcomes text[], times double precision[]
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    first bigint;
    count integer := cardinality(instances);
BEGIN
    BEGIN
        PERFORM pg_advisory_lock(1818848875, 8);
        first := nextval('feed_numbers');
        IF count > 1 THEN
            PERFORM setval('feed_numbers', first + count - 1);
        END IF;
        INSERT INTO feed (seq, instance, workflow, event, source, target, outcome, time)
        SELECT first + r.n - 1, r.i, r.w, r.e, r.s, r.t, r.o, r.tm
        FROM unnest(instances, workflows, events, sources, targets, outcomes, times)
             WITH ORDINALITY AS r(i, w, e, s, t, o, tm, n);
        PERFORM pg_advisory_unlock(1818848875, 8);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_advisory_unlock_all();
        RAISE;
    END;
    RETURN first;
END
$$;
