-- Bots (issue 20): a run of a manifest's `bots:` entry, started by a forge event (a `github:` or
-- `bitbucket:` trigger), a cron minute or another trigger's `runs` action, as Estafette's `bots`
-- table. Its log lines and stage runs live in log_lines / stage_runs with job_kind 'bot', like
-- releases'. Statuses move along the same JOB_TRANSITIONS as builds and releases.
CREATE TABLE IF NOT EXISTS bots (
  id INT8 PRIMARY KEY,
  pipeline_id INT8 NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
  repo_source TEXT NOT NULL,
  repo_owner TEXT NOT NULL,
  repo_name TEXT NOT NULL,
  -- The bot's name under `bots:`.
  name TEXT NOT NULL,
  -- The branch and revision whose manifest the bot ran (its latest build there).
  branch TEXT NOT NULL DEFAULT '',
  revision TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'pending',
  status_reason TEXT NOT NULL DEFAULT '',
  -- The event that fired it (Estafette's triggered_by_event): `{event, name?, fields}`.
  trigger JSONB,
  triggered_by TEXT NOT NULL DEFAULT '',
  -- The build whose manifest it ran.
  build_id INT8,
  plan JSONB,
  chain_depth INT4 NOT NULL DEFAULT 0,
  event_id TEXT,
  inserted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  duration_ms INT8,
  -- When its builder last reported anything (as builds.heartbeat_at, migration 0320).
  heartbeat_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX IF NOT EXISTS bots_by_event ON bots (event_id);
CREATE INDEX IF NOT EXISTS bots_by_pipeline ON bots (pipeline_id, inserted_at DESC);
CREATE INDEX IF NOT EXISTS bots_by_name ON bots (pipeline_id, name, inserted_at DESC);
CREATE INDEX IF NOT EXISTS bots_by_time ON bots (inserted_at DESC);
CREATE INDEX IF NOT EXISTS bots_active ON bots (status, updated_at) WHERE status IN ('pending', 'running', 'canceling');

-- `github:` and `bitbucket:` triggers are looked up by the repository they listen to, as git
-- triggers are: fill `source` for those stored before (new ones get it from replaceTriggers).
UPDATE triggers SET source = lower(filter->>'repository'), source_is_pattern = (filter->>'repository') !~ '^[A-Za-z0-9._/-]+$'
  WHERE kind IN ('github', 'bitbucket') AND source IS NULL AND filter->>'repository' IS NOT NULL;
