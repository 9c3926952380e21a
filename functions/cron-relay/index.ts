/**
 * The Knative entry of cron-relay (bundled as dist/functions/cron-relay.mjs): binds PORT at once and
 * loads the composition root (wire.ts) behind it, on functions-framework (shared/http/serve.ts).
 */
import { runFunction } from '../../shared/http/serve.ts';

await runFunction('cron-relay', () => import('./wire.ts'));
