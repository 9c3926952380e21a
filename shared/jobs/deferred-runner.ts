/**
 * A JobRunner that is built on its first call: the Kubernetes client costs about half a second
 * to load, and a function scaled from zero should answer its first request (an event that may
 * not start a job at all) without paying it.
 */
import type { BuilderConfig } from '../plan/builder-config.ts';
import type { JobRef, JobRunner, JobState } from './runner.ts';

/** Forwards every call to the runner `load` resolves to (loaded once; retried after a failure). */
export class DeferredJobRunner implements JobRunner {
  private loaded?: Promise<JobRunner>;

  constructor(
    readonly name: string,
    private readonly load: () => Promise<JobRunner>,
  ) {}

  /**
   * Starts loading the runner now, in the background (a cold instance's first event usually
   * creates a Job: loading overlaps with the database and forge round trips before it).
   */
  warm(): void {
    this.runner().catch(() => {});
  }

  private runner(): Promise<JobRunner> {
    return (this.loaded ??= this.load().catch((err) => {
      this.loaded = undefined;
      throw err;
    }));
  }

  async start(ref: JobRef, config: BuilderConfig): Promise<void> {
    return (await this.runner()).start(ref, config);
  }

  async cancel(ref: JobRef): Promise<void> {
    return (await this.runner()).cancel(ref);
  }

  async state(ref: JobRef): Promise<JobState> {
    return (await this.runner()).state(ref);
  }

  async states(): Promise<Map<string, JobState> | undefined> {
    return (await this.runner()).states?.();
  }

  async close(): Promise<void> {
    if (this.loaded) await (await this.loaded.catch(() => undefined))?.close();
  }
}
