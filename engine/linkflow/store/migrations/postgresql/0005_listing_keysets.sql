-- Schema version 5: every filter of the instance listing (`linkflow instances`, GET /instances,
-- the studio's operations view) reads its first page from an index, whatever the store holds.
-- Each index ends in the listing's order (newest first, id breaking ties), so a page is a range
-- of one index read backwards: no scan of the table, no sort.
--   no filter, a creation time range: instances_created
--   --workflow, --state, --outcome:    instances_by_workflow, _by_state, _by_outcome
--   an update time range:              instances_updated (that listing is ordered by `updated`)
-- The state and update-time indexes are the price: a step that moves an instance writes a
-- page of each (a step that changes neither writes none).
-- A data field has no index (any field may be asked for): the listing scans a bounded window
-- of one of the indexes above (see store/listing.py).
DROP INDEX instances_listing;
DROP INDEX instances_by_outcome;
CREATE INDEX instances_created ON instances (created, id);
CREATE INDEX instances_by_workflow ON instances (workflow, created, id);
CREATE INDEX instances_by_state ON instances (state, created, id);
CREATE INDEX instances_by_outcome ON instances (outcome, created, id);
CREATE INDEX instances_updated ON instances (updated, id);
-- An operator action (send, cancel, terminate: store/operator.py) says so on its history
-- entry, with who did it (JSON); NULL on every other entry.
ALTER TABLE history ADD COLUMN actor TEXT;
