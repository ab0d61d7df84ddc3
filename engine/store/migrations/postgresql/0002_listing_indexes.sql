-- Schema version 2: `instances --workflow/--state/--outcome` and a feed per instance stay
-- index lookups as the store grows.
CREATE INDEX instances_listing ON instances (workflow, state, created);
CREATE INDEX instances_by_outcome ON instances (outcome, created);
CREATE INDEX feed_by_instance ON feed (instance, seq);
