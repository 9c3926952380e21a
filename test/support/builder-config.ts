/** A minimal valid BuilderConfig for tests of runners and dispatch. */
import type { BuilderConfig } from '../../shared/plan/builder-config.ts';

export function sampleBuilderConfig(overrides: Partial<BuilderConfig> = {}): BuilderConfig {
  return {
    job: { kind: 'build', id: '1234567890' },
    plan: {
      kind: 'build',
      repoSource: 'github.com',
      repoOwner: 'estafette',
      repoName: 'estafette-ci-api',
      branch: 'main',
      revision: 'a'.repeat(40),
      version: '1.0.1',
      builder: { track: 'stable', os: 'linux', medium: '', type: 'docker' },
      labels: {},
      estafetteEnv: {},
      stages: [],
    },
    git: { cloneUrl: 'https://github.com/estafette/estafette-ci-api.git', branch: 'main', revision: 'a'.repeat(40), clone: true },
    ingest: { url: 'http://log-ingest', token: 'job-token' },
    executor: 'docker',
    workDir: '/estafette-work',
    ...overrides,
  };
}
