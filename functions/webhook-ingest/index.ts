/**
 * The Knative entry of webhook-ingest (bundled as dist/functions/webhook-ingest.mjs): binds PORT at once and
 * loads the composition root (wire.ts) behind it, on functions-framework (shared/http/serve.ts).
 */
import { runFunction } from '../../shared/http/serve.ts';

await runFunction('webhook-ingest', () => import('./wire.ts'));
