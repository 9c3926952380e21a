-- How to start a queued build's Job when admission gets to it, possibly in another build-dispatch
-- instance than the one that queued it: the clone URL and ref, whether the job may have secrets
-- (not for a fork's pull request) and the repository whose credentials clone it. NULL for builds
-- that never waited (they were started by the instance that created them).
ALTER TABLE builds ADD COLUMN IF NOT EXISTS job_start JSONB;
