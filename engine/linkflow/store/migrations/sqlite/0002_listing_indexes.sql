-- Schema version 2: `linkflow instances --workflow W` and `--outcome O` list the newest first
-- from an index as the store grows. (Neither column changes on an ordinary step, so a step
-- writes no page of these indexes: a state index would cost every event a page.)
CREATE INDEX instances_listing ON instances (workflow, created);
CREATE INDEX instances_by_outcome ON instances (outcome, created);
