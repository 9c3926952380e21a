/**
 * Composition root of build-dispatch: the database, the forge APIs (manifests, statuses and
 * clone credentials, with the only forge credentials of the system), the job runner
 * (Kubernetes in production, loaded on the first Job) and the settings every job gets. It
 * takes its events over HTTP from Knative Triggers, or from the local mode's bus loop.
 */
import { ConfigError } from '../../shared/errors/http-error.ts';
import { parseEvent } from '../../shared/events/validate.ts';
import { cloudEventEndpoint } from '../../shared/http/cloudevent-endpoint.ts';
import { consumedBy } from '../../shared/http/functions.ts';
import { allReady } from '../../shared/http/health.ts';
import { observedScm } from '../../shared/scm/observed.ts';
import { scmRouter } from '../../shared/scm/select.ts';
import { ForgeEndpoints } from '../../shared/scm/endpoints.ts';
import type { Wire } from '../../shared/runtime/wired-function.ts';
import { makeHandler } from './handler.ts';
import { jobDeadlineSeconds } from '../../shared/k8s/job-spec.ts';
import type { DispatchOutcomes } from '../../shared/bus/dispatch-outcomes.ts';

/** Outcome publishing that connects on first use (a push nobody waits for costs one publish). */
function lazyOutcomes(get: () => Promise<Pick<DispatchOutcomes, 'publish'>>): Pick<DispatchOutcomes, 'publish'> {
  return {
    publish: (o) =>
      void get().then(
        (x) => x.publish(o),
        () => undefined,
      ),
  };
}

/** CloudEvent source of the events build-dispatch emits. */
export const SOURCE = '/estafette/build-dispatch';

export const wire: Wire = (runtime) => {
  const { config } = runtime;
  if (!config.jwtKey) throw new ConfigError('ESTAFETTE_JWT_KEY', 'is required to sign job tokens');
  const forges = new ForgeEndpoints(config.scm);
  const handle = makeHandler({
    pool: runtime.pool(),
    scm: observedScm(scmRouter(forges), runtime.log),
    forges,
    runner: runtime.jobRunner(),
    publish: runtime.publisher(SOURCE),
    settings: {
      jwtKey: config.jwtKey,
      ...(config.secretKey ? { secretKey: config.secretKey } : {}),
      logIngestUrl: config.logIngestUrl,
      baseUrl: config.baseUrl,
      executor: config.executor,
      maxChainDepth: config.maxChainDepth,
      maxRunningBuilds: config.maxRunningBuilds,
      admittedStartGraceMs: config.admittedStartGraceSeconds * 1000,
      manifestAttempts: config.manifestAttempts,
      statusContext: config.statuses.contextPrefix,
      jobTokenSeconds: jobDeadlineSeconds(config.builderJobSpec),
    },
    log: runtime.log,
    outcomes: lazyOutcomes(() => runtime.outcomes()),
  });
  return {
    name: 'build-dispatch',
    http: cloudEventEndpoint((event) => handle(event), { consumer: 'build-dispatch' }),
    consumer: { types: consumedBy('build-dispatch'), handle: (ce) => handle(parseEvent(ce)) },
    ready: () => allReady([() => runtime.databaseReady(), () => runtime.busReady()]),
    maxBodyBytes: config.maxWebhookBytes,
    warm: () => runtime.warmJobRunner(),
  };
};
