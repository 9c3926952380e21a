/**
 * build-dispatch on functions-framework: Knative Triggers POST CloudEvents to it. Its Kubernetes
 * access comes from the in-cluster service account (or KUBECONFIG); the job runner is chosen by
 * JOB_RUNNER (kubernetes in production).
 */
import { parseConfig } from '../../shared/config/config.ts';
import { ConfigError } from '../../shared/errors/http-error.ts';
import { Runtime } from '../../shared/runtime/runtime.ts';
import { registerFunction } from '../../shared/http/framework.ts';
import { lazyHandler } from '../../shared/http/health.ts';
import { cloudEventEndpoint } from '../../shared/http/cloudevent-endpoint.ts';
import { scmRouter } from '../../shared/scm/select.ts';
import { KubernetesJobRunner } from '../../shared/k8s/kubernetes-runner.ts';
import { LocalJobRunner } from '../../shared/jobs/local-runner.ts';
import { makeHandler } from './handler.ts';

export const SOURCE = '/estafette/build-dispatch';

const config = parseConfig();
const runtime = new Runtime(config);

registerFunction(
  'build-dispatch',
  lazyHandler(async () => {
    if (!config.jwtKey) throw new ConfigError('ESTAFETTE_JWT_KEY', 'is required to sign job tokens');
    const handle = makeHandler({
      pool: runtime.pool(),
      scm: scmRouter(config.scm),
      runner:
        config.jobRunner === 'kubernetes'
          ? KubernetesJobRunner.fromDefault({ ...config.builderJobSpec, namespace: config.jobNamespace, builderImageRepository: config.builderImageRepository, serviceAccountName: config.builderServiceAccount })
          : new LocalJobRunner(),
      publish: await runtime.publish(SOURCE),
      settings: {
        jwtKey: config.jwtKey,
        ...(config.secretKey ? { secretKey: config.secretKey } : {}),
        logIngestUrl: config.logIngestUrl,
        baseUrl: config.baseUrl,
        executor: config.executor,
        maxChainDepth: config.maxChainDepth,
      },
      log: (line) => console.log(line),
    });
    return cloudEventEndpoint(handle);
  }),
);
