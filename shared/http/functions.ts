/**
 * The five functions of the system (one folder each under functions/) and the events each
 * consumes — read from knative/functions.json, the same list the Knative Triggers are made
 * from, so the local mode's subscriptions and the cluster's Triggers cannot drift apart.
 */
import functionsSpec from '../../knative/functions.json' with { type: 'json' };
import { eventType, type EventName, type EventType } from '../events/types.ts';

export const FUNCTION_NAMES = ['webhook-ingest', 'build-dispatch', 'log-ingest', 'cron-relay', 'query-api'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The `ci.estafette.*` event types function `name` consumes (its Triggers' filters). */
export function consumedBy(name: FunctionName): EventType[] {
  const fn = functionsSpec.functions.find((f) => f.name === name);
  if (!fn) throw new Error(`knative/functions.json has no function ${name}`);
  return (fn.consumes as EventName[]).map(eventType);
}
