/**
 * The Knative entry of log-ingest (bundled as dist/functions/log-ingest.mjs): binds PORT at once and
 * loads the composition root (wire.ts) behind it, on functions-framework (shared/http/serve.ts).
 */
import { runFunction } from '../../shared/http/serve.ts';

await runFunction('log-ingest', () => import('./wire.ts'));
