/** The words of the queue notes (frontend/src/scheduling/queue-note.tsx). */
import { expect } from 'chai';
import { queueText } from '../../frontend/src/scheduling/queue-note.tsx';

describe('UI: queue position words', () => {
  const cases: Array<[number | undefined, string]> = [
    [undefined, ''],
    [1, 'next in queue'],
    [2, '2nd in queue'],
    [3, '3rd in queue'],
    [4, '4th in queue'],
    [11, '11th in queue'],
    [12, '12th in queue'],
    [13, '13th in queue'],
    [21, '21st in queue'],
    [102, '102nd in queue'],
  ];
  cases.forEach(([n, want]) => it(`${n} → '${want}'`, () => expect(queueText(n)).to.equal(want)));
});
