-- Schema version 4: `linkflow prune --finished-before DATE` finds finished instances by their
-- finishing time (`updated`: a finished instance takes no accepted step after its last) from an
-- index. Only finished instances are in it, so an ordinary step of a running instance writes no
-- page of it; the finishing step writes one.
CREATE INDEX instances_finished ON instances (updated) WHERE outcome IS NOT NULL;
