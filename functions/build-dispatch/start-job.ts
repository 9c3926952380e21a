/**
 * Hands a compiled plan to the job runner: a job token for exactly this job, the BuilderConfig,
 * and `runner.start` (idempotent, so a redelivered event re-starting a pending job is harmless).
 * The master secret key never leaves this function: the plan's secrets are opened here, only
 * those this pipeline may use, and only their values go to the job (a refused plan gets none and
 * fails in the builder with a `validate-secrets` step).
 */
import { signJobToken } from '../../shared/auth/job-token.ts';
import { openPlanSecrets } from '../../shared/secrets/plan-secrets.ts';
import type { BuilderConfig } from '../../shared/plan/builder-config.ts';
import type { Plan } from '../../shared/plan/types.ts';
import { WORK_DIR } from '../../shared/k8s/job-spec.ts';
import type { DispatchDeps } from './deps.ts';

export interface StartJob {
  kind: 'build' | 'release' | 'bot';
  id: string;
  plan: Plan;
  cloneUrl: string;
  clone: boolean;
}

/** Starts the builder for a job. */
export async function startJob(deps: DispatchDeps, job: StartJob): Promise<void> {
  const s = deps.settings;
  const token = await signJobToken(s.jwtKey, { kind: job.kind, id: job.id });
  const config: BuilderConfig = {
    job: { kind: job.kind, id: job.id },
    plan: job.plan,
    git: { cloneUrl: job.cloneUrl, branch: job.plan.branch, revision: job.plan.revision, clone: job.clone },
    ingest: { url: s.logIngestUrl, token },
    executor: s.executor,
    workDir: WORK_DIR,
    secrets: openPlanSecrets(job.plan, s.secretKey),
  };
  await deps.runner.start({ kind: job.kind, id: job.id, repoOwner: job.plan.repoOwner, repoName: job.plan.repoName }, config);
}
