import { expect } from 'chai';
import { canTransition, JOB_STATUSES, type JobStatus } from '../../shared/status/status.ts';

describe('job status transitions', () => {
  const legal: Array<[JobStatus, JobStatus]> = [
    ['pending', 'running'],
    ['running', 'succeeded'],
    ['running', 'failed'],
    ['running', 'canceling'],
    ['canceling', 'canceled'],
    ['pending', 'canceled'],
    ['awaiting-approval', 'queued'],
    ['queued', 'pending'],
    ['queued', 'canceled'],
    ['awaiting-approval', 'canceled'],
  ];
  legal.forEach(([from, to]) => it(`allows ${from} → ${to}`, () => expect(canTransition(from, to)).to.equal(true)));
  const illegal: Array<[JobStatus, JobStatus]> = [
    ['succeeded', 'running'],
    ['failed', 'succeeded'],
    ['canceled', 'running'],
    ['pending', 'succeeded'],
    ['running', 'pending'],
    ['queued', 'running'],
    ['awaiting-approval', 'pending'],
    ['pending', 'queued'],
    ['running', 'queued'],
  ];
  illegal.forEach(([from, to]) => it(`refuses ${from} → ${to}`, () => expect(canTransition(from, to)).to.equal(false)));
  it('has no transition out of a final status', () => {
    for (const to of JOB_STATUSES) for (const from of ['succeeded', 'failed', 'canceled'] as const) expect(canTransition(from, to)).to.equal(false);
  });
});
