/**
 * The Knative entry of query-api (bundled as dist/functions/query-api.mjs): binds PORT at once and
 * loads the composition root (wire.ts) behind it, on functions-framework (shared/http/serve.ts).
 */
import { runFunction } from '../../shared/http/serve.ts';

await runFunction('query-api', () => import('./wire.ts'));
