-- When the builder of a build or release last showed it is alive: any report it sends (logs,
-- status or heartbeat) sets it, at most every few seconds. Housekeeping ends a running job
-- whose builder has been silent longer than its heartbeat timeout and whose Job is not alive.
-- NULL until the first report (housekeeping then goes by updated_at).
ALTER TABLE builds ADD COLUMN IF NOT EXISTS heartbeat_at TIMESTAMPTZ;
ALTER TABLE releases ADD COLUMN IF NOT EXISTS heartbeat_at TIMESTAMPTZ;
