/**
 * Hands a compiled plan to the job runner: a job token for exactly this job until its deadline, the BuilderConfig,
 * and `runner.start` (idempotent, so a redelivered event re-starting a pending job is harmless).
 * The master secret key never leaves this function: the plan's secrets are opened here, only
 * those this pipeline may use, and only their values go to the job (a refused plan gets none and
 * fails in the builder with a `validate-secrets` step). A job whose code is not the repository's
 * own (a fork's pull request: `secretsAllowed` false) gets no secret values at all. The clone
 * credentials (clone-credentials.ts), a short-lived token in the clone URL and in `credentials`,
 * are masked by the builder.
 * The config carries the active trace's traceparent, so the builder's spans and reports join
 * the trace of the push.
 */
import { signJobToken } from '../../shared/auth/job-token.ts';
import { openPlanSecrets } from '../../shared/secrets/plan-secrets.ts';
import type { BuilderConfig } from '../../shared/plan/builder-config.ts';
import type { Plan } from '../../shared/plan/types.ts';
import type { RepoLocation } from '../../shared/scm/provider.ts';
import { jobDeadlineSeconds, WORK_DIR } from '../../shared/k8s/job-spec.ts';
import { currentTraceparent } from '../../shared/trace/tracing.ts';
import type { DispatchDeps } from './deps.ts';
import { cloneAccessFor } from './clone-credentials.ts';

/** The builder continues the trace of the event that started it. */
const traceOf = (): { traceparent?: string } => {
  const traceparent = currentTraceparent();
  return traceparent ? { traceparent } : {};
};

export interface StartJob {
  kind: 'build' | 'release' | 'bot';
  id: string;
  plan: Plan;
  cloneUrl: string;
  clone: boolean;
  /** False for code from outside the repository (pull-requests.ts): the job gets no secrets. Default true. */
  secretsAllowed?: boolean;
  /** The ref to fetch when it is not the plan's branch (a pull request's `pull/7/head`). */
  cloneRef?: string;
  /** The repository on its forge, for clone credentials (none for local repositories). */
  cloneAccess?: RepoLocation;
}

/** Starts the builder for a job. */
export async function startJob(deps: DispatchDeps, job: StartJob): Promise<void> {
  const s = deps.settings;
  // The token ends with the job: it expires at the job's deadline, and log-ingest refuses it once the job is final.
  const token = await signJobToken(s.jwtKey, { kind: job.kind, id: job.id }, s.jobTokenSeconds ?? jobDeadlineSeconds(), deps.clock);
  const clone = job.clone && job.cloneAccess ? await cloneAccessFor(deps, job.cloneAccess, job.cloneUrl) : { cloneUrl: job.cloneUrl };
  const config: BuilderConfig = {
    job: { kind: job.kind, id: job.id },
    plan: job.plan,
    git: { cloneUrl: clone.cloneUrl, branch: job.cloneRef ?? job.plan.branch, revision: job.plan.revision, clone: job.clone },
    ingest: { url: s.logIngestUrl, token },
    executor: s.executor,
    workDir: WORK_DIR,
    secrets: job.secretsAllowed === false ? { values: {} } : openPlanSecrets(job.plan, s.secretKey),
    ...(clone.credentials ? { credentials: clone.credentials } : {}),
    ...traceOf(),
  };
  await deps.runner.start({ kind: job.kind, id: job.id, repoOwner: job.plan.repoOwner, repoName: job.plan.repoName }, config);
}
