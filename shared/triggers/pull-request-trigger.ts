/**
 * What a stored trigger says about a pull request: its event name, and whether the build it
 * started came from a fork (whose versions are never released, whose builds get no secrets).
 */
import type { TriggerInfo } from '../events/types.ts';

/** The trigger event of a pull-request build (`when: event == 'pull_request'`). */
export const PULL_REQUEST_EVENT = 'pull_request';

/** True for a build of a fork's pull request, from its stored trigger. */
export const isForkPullRequest = (trigger: TriggerInfo | null | undefined): boolean => trigger?.event === PULL_REQUEST_EVENT && trigger.fields.FORK !== 'false';
