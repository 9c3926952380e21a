/**
 * cron-relay on functions-framework: the PingSource's ticks arrive through a Knative Trigger.
 * Housekeeping checks Jobs through the in-cluster service account (or KUBECONFIG); with
 * JOB_RUNNER=local it is off, since builders started by another process are invisible here (the
 * single-process local mode mounts makeHandler with its own runner instead).
 */
import { parseConfig } from '../../shared/config/config.ts';
import { Runtime } from '../../shared/runtime/runtime.ts';
import { registerFunction } from '../../shared/http/framework.ts';
import { lazyHandler } from '../../shared/http/health.ts';
import { KubernetesJobRunner } from '../../shared/k8s/kubernetes-runner.ts';
import { makeHandler } from './handler.ts';
import { tickEndpoint } from './endpoint.ts';

export const SOURCE = '/estafette/cron-relay';

const config = parseConfig();
const runtime = new Runtime(config);

registerFunction(
  'cron-relay',
  lazyHandler(async () => {
    const handle = makeHandler({
      pool: runtime.pool(),
      publish: await runtime.publish(SOURCE),
      ...(config.jobRunner === 'kubernetes'
        ? { runner: KubernetesJobRunner.fromDefault({ ...config.builderJobSpec, namespace: config.jobNamespace, builderImageRepository: config.builderImageRepository, serviceAccountName: config.builderServiceAccount }) }
        : {}),
      log: (line) => console.log(line),
    });
    return tickEndpoint(handle);
  }),
);
