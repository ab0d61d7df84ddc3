-- Schema version 8: nothing changes for SQLite's feed (its single writer numbers entries in
-- commit order); PostgreSQL's 0008 replaces its feed counter row with a sequence. The version
-- moves in both so that both dialects keep the same numbers.
SELECT 1;
