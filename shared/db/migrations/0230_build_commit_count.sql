-- A push can carry thousands of commits; a build keeps at most 20 of them (builds.commits) and
-- the total here, so build rows and lists stay small. 0 for builds stored before: their
-- commits array is complete.
ALTER TABLE builds ADD COLUMN IF NOT EXISTS commit_count INT4 NOT NULL DEFAULT 0;
