/**
 * Pipeline, release and git triggers (issue 7). Placeholder until the trigger evaluation lands:
 * these are called by the handler and must not throw.
 */
import type { BuildStartedData, GitPushData, ReleaseFinishedData } from '../../shared/events/types.ts';
import type { DispatchDeps } from './deps.ts';

export async function firePipelineTriggers(_deps: DispatchDeps, _eventId: string, _event: 'started' | 'finished', _data: BuildStartedData): Promise<void> {}
export async function fireReleaseTriggers(_deps: DispatchDeps, _eventId: string, _data: ReleaseFinishedData): Promise<void> {}
export async function fireGitTriggers(_deps: DispatchDeps, _eventId: string, _data: GitPushData): Promise<void> {}
