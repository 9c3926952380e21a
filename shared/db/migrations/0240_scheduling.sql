-- Scheduling (issue 22): builds and releases that wait for a concurrency slot (status `queued`)
-- or for approvals (`awaiting-approval`), why a job ended as it did (superseded, rejected,
-- expired), the approvals themselves, and one lock row per kind that serialises admission across
-- build-dispatch instances (SELECT … FOR UPDATE; no advisory locks, so CockroachDB runs it too).

-- Why the job has its status, for people and for forge status reporters ("superseded by build #7 (abc1234)").
ALTER TABLE builds ADD COLUMN IF NOT EXISTS status_reason TEXT NOT NULL DEFAULT '';
-- The limits a queued build waits under, from its manifest: at most queue_limit active builds of its
-- pipeline (of its branch when queue_per_branch); queue_global when ESTAFETTE_MAX_RUNNING_BUILDS applied.
ALTER TABLE builds ADD COLUMN IF NOT EXISTS queue_limit INT4;
ALTER TABLE builds ADD COLUMN IF NOT EXISTS queue_per_branch BOOL NOT NULL DEFAULT false;
ALTER TABLE builds ADD COLUMN IF NOT EXISTS queue_global BOOL NOT NULL DEFAULT false;

ALTER TABLE releases ADD COLUMN IF NOT EXISTS status_reason TEXT NOT NULL DEFAULT '';
-- At most queue_limit active releases of the same pipeline, target and action.
ALTER TABLE releases ADD COLUMN IF NOT EXISTS queue_limit INT4;
-- The approval rule the release waits for (its manifest's, defaults applied) and when it expires.
ALTER TABLE releases ADD COLUMN IF NOT EXISTS approval JSONB;
ALTER TABLE releases ADD COLUMN IF NOT EXISTS approval_deadline TIMESTAMPTZ;

-- The waiting jobs, oldest first: admission scans these.
CREATE INDEX IF NOT EXISTS builds_queued ON builds (inserted_at, id) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS releases_waiting ON releases (status, inserted_at, id) WHERE status IN ('queued', 'awaiting-approval');
-- Active builds of a pipeline (and branch): the per-pipeline limit counts these.
CREATE INDEX IF NOT EXISTS builds_active_by_pipeline ON builds (pipeline_id, branch) WHERE status IN ('pending', 'running', 'canceling');
-- Active releases of a target: the per-target limit counts these.
CREATE INDEX IF NOT EXISTS releases_active_by_target ON releases (pipeline_id, name, action) WHERE status IN ('pending', 'running', 'canceling');

CREATE TABLE IF NOT EXISTS release_approvals (
  release_id INT8 NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
  -- The approver's sign-in email (or API client id); one decision per person.
  approver TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  decision TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  -- Why this person could decide: e.g. "role operator", "user", "group platform".
  via TEXT NOT NULL DEFAULT '',
  decided_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (release_id, approver)
);

CREATE TABLE IF NOT EXISTS queue_locks (
  name TEXT PRIMARY KEY
);
INSERT INTO queue_locks (name) VALUES ('builds'), ('releases') ON CONFLICT (name) DO NOTHING;
