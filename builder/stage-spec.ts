/**
 * What an executor gets for a stage or service, following Estafette's docker runner: the env is
 * the run's ESTAFETTE_* variables, then the stage's (or service's) resolved env, with
 * `${ESTAFETTE_*}` in every value expanded (`ESTAFETTE_BUILD_STATUS` as it is now); the image is
 * expanded the same way; the commands are passed on raw — the stage's shell expands `${...}`
 * from its environment, so no value (a secret, a credential) is ever part of a command line
 * and each command is echoed as written.
 */
import { expandEstafetteVars } from '../shared/manifest/when.ts';
import type { PlanService, PlanStage } from '../shared/plan/types.ts';
import type { BuildContext } from './build-context.ts';
import type { ServiceSpec, StageSpec } from './executors/executor.ts';

/** The env of a stage or service with `${ESTAFETTE_*}` expanded in each value (one pass). */
function resolvedEnv(ctx: BuildContext, own: Record<string, string>): Record<string, string> {
  const raw = { ...ctx.plan.estafetteEnv, ...own, ESTAFETTE_BUILD_STATUS: ctx.status };
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, expandEstafetteVars(v, raw)]));
}

/** The spec of a stage (or parallel child) at `path`. */
export function stageSpec(ctx: BuildContext, s: PlanStage, path: string): StageSpec {
  const env = resolvedEnv(ctx, s.env);
  return { path, image: expandEstafetteVars(s.image, env), shell: s.shell || '/bin/sh', workDir: s.workDir || '/estafette-work', commands: s.commands, env };
}

/** The spec of a service of the stage at `stagePath`. */
export function serviceSpec(ctx: BuildContext, svc: PlanService, stagePath: string): ServiceSpec {
  const env = resolvedEnv(ctx, svc.env);
  return { path: `${stagePath}/${svc.name}`, name: svc.name, image: expandEstafetteVars(svc.image, env), shell: svc.shell || '/bin/sh', commands: svc.commands, env };
}
