/**
 * The Knative entry of build-dispatch (bundled as dist/functions/build-dispatch.mjs): binds PORT at once and
 * loads the composition root (wire.ts) behind it, on functions-framework (shared/http/serve.ts).
 */
import { runFunction } from '../../shared/http/serve.ts';

await runFunction('build-dispatch', () => import('./wire.ts'));
