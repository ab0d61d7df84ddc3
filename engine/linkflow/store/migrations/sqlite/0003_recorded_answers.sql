-- Schema version 3: what the first answer to an event id said (JSON: the instance's version
-- and outcome after the step, the instance a handoff started, the feed number), so sending the
-- same id again answers the recorded step, not the instance as it is now. Written only for
-- entries with an event id; entries recorded before this version have none (see `_replay`).
ALTER TABLE history ADD COLUMN answer TEXT;
