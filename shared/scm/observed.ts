/**
 * A forge API provider as build-dispatch uses it: every call (each method of the provider,
 * whichever a forge adds) runs in a client span of the current trace, and every failure is one
 * log line — the repository, revision, provider, operation, HTTP status and cause — and one count
 * in `estafette_forge_api_failures_total`, before it is rethrown for the event to be retried.
 */
import { errorMessage, type Logger } from '../log/logger.ts';
import { forgeApiFailed } from '../metrics/metrics.ts';
import { inSpan } from '../trace/tracing.ts';
import { ManifestEncodingError } from '../manifest/text.ts';
import { ScmError, type RepoLocation, type ScmProvider } from './provider.ts';

const isRepo = (v: unknown): v is RepoLocation => typeof v === 'object' && v !== null && 'repoOwner' in v && 'repoName' in v;

/** `scm` with its calls traced and its failures logged and counted. */
export function observedScm<P extends ScmProvider>(scm: P, log: Logger): P {
  const observed: Record<string, unknown> = { ...(scm as object) };
  for (const [operation, method] of Object.entries(scm)) {
    if (typeof method !== 'function') continue;
    observed[operation] = (...args: unknown[]) => {
      const repo = args.find(isRepo);
      const pipeline = repo ? `${repo.repoSource}/${repo.repoOwner}/${repo.repoName}` : undefined;
      const revision = typeof args[1] === 'string' ? args[1] : undefined;
      return inSpan(`forge ${operation}`, { kind: 'client', attributes: { 'estafette.forge.operation': operation, ...(pipeline ? { 'estafette.pipeline': pipeline } : {}) } }, async () => {
        try {
          return await (method as (...a: unknown[]) => Promise<unknown>).apply(scm, args);
        } catch (err) {
          // The forge answered; what it gave is not a manifest (an invalid manifest, not a failure of the API).
          if (err instanceof ManifestEncodingError) throw err;
          const provider = err instanceof ScmError ? err.provider : scm.name;
          const status = err instanceof ScmError ? err.status : 0;
          log.warn({ pipeline, revision, provider, operation, status, cause: errorMessage(err) }, `forge API ${provider} ${operation}${pipeline ? ` for ${pipeline}` : ''} failed: ${errorMessage(err)}`);
          forgeApiFailed(provider, operation, status);
          throw err;
        }
      });
    };
  }
  return observed as P;
}
