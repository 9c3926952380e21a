/**
 * What a function's composition root (`functions/<name>/wire.ts`) hands to whoever hosts it:
 * the Knative entry (shared/http/serve.ts, one function per process on functions-framework) or
 * the local mode (cli/start/system.ts, all five behind one server with a bus loop). Both call the
 * same `wire(runtime)`, so a function's dependencies are built in exactly one place.
 */
import type { CloudEvent } from 'cloudevents';
import type { EventType } from '../events/types.ts';
import type { FunctionName } from '../http/functions.ts';
import type { Readiness } from '../http/health.ts';
import type { HttpHandler } from '../http/types.ts';
import type { Runtime } from './runtime.ts';

export interface WiredFunction {
  name: FunctionName;
  /** The function's HTTP face: what its Knative Service serves (the host adds /liveness, /readiness). */
  http: HttpHandler;
  /** For CloudEvent functions: the events it takes, delivered by the local bus loop (on Knative, Triggers POST them to `http`). */
  consumer?: { types: readonly EventType[]; handle(event: CloudEvent<unknown>): Promise<void> };
  /** Whether what it needs to serve (database, bus) is reachable now. */
  ready(): Promise<Readiness>;
  /** Largest request body the host accepts. */
  maxBodyBytes: number;
  /** Called once the function serves: starts loading in the background what its first requests need. */
  warm?(): void;
}

/**
 * A composition root: builds the function's dependencies from `runtime` (its config and shared
 * infrastructure). Throws a ConfigError for a setting the function cannot run without, so a
 * misconfigured instance fails at start, not on its first request.
 */
export type Wire = (runtime: Runtime) => WiredFunction;
