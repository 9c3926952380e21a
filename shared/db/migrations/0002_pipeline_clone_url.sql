-- Where a pipeline's repository is cloned from and which forge it lives on: needed to rebuild,
-- to run triggered builds and releases (events other than git.push carry no clone URL).
ALTER TABLE pipelines ADD COLUMN IF NOT EXISTS clone_url TEXT NOT NULL DEFAULT '';
ALTER TABLE pipelines ADD COLUMN IF NOT EXISTS forge TEXT NOT NULL DEFAULT '';
