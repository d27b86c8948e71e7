import { describe, expect, it } from 'vitest';
import { count } from '../../../common/count.js';
import { approvalNote } from '../../../plan/approval.js';

describe('counts in operator-facing text', () => {
  it.each([
    [1, 'user session', '1 user session'],
    [2, 'user session', '2 user sessions'],
    [1, 'other subscriber', '1 other subscriber'],
    [0, 'conflict', '0 conflicts'],
    [3, 'branch', '3 branches'],
    [2, 'try', '2 tries'],
    [1, 'merge agent job', '1 merge agent job'],
  ])('%i %s → %s', (n, noun, text) => {
    expect(count(n, noun)).toBe(text);
  });
});

it('a gate that needs one approval says "approval", not "approvals"', () => {
  const policy = { approvers: ['alice'], minApprovals: 1, starterMayApprove: true };
  expect(approvalNote(policy, [])).toBe('0 of 1 approval; may still approve: alice');
  expect(approvalNote({ ...policy, approvers: ['alice', 'bob'], minApprovals: 2 }, [])).toMatch(/^0 of 2 approvals;/);
});
