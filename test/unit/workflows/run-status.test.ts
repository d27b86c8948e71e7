// common/run-status.ts: which statuses wait for a person, are open, ended, ended short. Exact table.
import { describe, expect, it } from 'vitest';
import {
  endedByReplup,
  endedShort,
  isAwaiting,
  isEnded,
  isHeld,
  isOpen,
  waitingStep,
} from '../../../common/run-status.js';

const table: [
  string,
  { awaiting: boolean; held: boolean; open: boolean; byReplup: boolean; ended: boolean; short: boolean },
][] = [
  ['running', { awaiting: false, held: false, open: true, byReplup: false, ended: false, short: false }],
  ['paused', { awaiting: false, held: true, open: true, byReplup: false, ended: false, short: false }],
  ['awaiting-operator', { awaiting: true, held: true, open: true, byReplup: false, ended: false, short: false }],
  ['awaiting-approval', { awaiting: true, held: true, open: true, byReplup: false, ended: false, short: false }],
  ['awaiting-confirmation', { awaiting: true, held: true, open: true, byReplup: false, ended: false, short: false }],
  ['completed', { awaiting: false, held: false, open: false, byReplup: true, ended: true, short: false }],
  ['aborted', { awaiting: false, held: false, open: false, byReplup: true, ended: true, short: true }],
  ['failed', { awaiting: false, held: false, open: false, byReplup: true, ended: true, short: true }],
  ['terminated', { awaiting: false, held: false, open: false, byReplup: false, ended: true, short: true }],
  ['timed-out', { awaiting: false, held: false, open: false, byReplup: false, ended: true, short: true }],
  ['canceled', { awaiting: false, held: false, open: false, byReplup: false, ended: true, short: true }],
];

describe('run status predicates', () => {
  it.each(table)('%s', (status, want) => {
    expect({
      awaiting: isAwaiting(status),
      held: isHeld(status),
      open: isOpen(status),
      byReplup: endedByReplup(status),
      ended: isEnded(status),
      short: endedShort(status),
    }).toEqual(want);
  });

  it('an unknown or missing status is none of them', () => {
    for (const s of [undefined, '', 'continued-as-new']) {
      expect([isAwaiting(s), isHeld(s), isOpen(s), endedByReplup(s), isEnded(s), endedShort(s)]).toEqual([
        false,
        false,
        false,
        false,
        false,
        false,
      ]);
    }
  });

  it('waitingStep finds the first step that waits for a person', () => {
    const steps = [
      { id: 'a', status: 'done' },
      { id: 'b', status: 'awaiting-approval' },
      { id: 'c', status: 'awaiting-operator' },
    ];
    expect(waitingStep(steps)?.id).toBe('b');
    expect(waitingStep([{ id: 'a', status: 'running' }])).toBeUndefined();
  });
});
