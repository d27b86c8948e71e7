// Two-person approval (#23): who may open a gate, what the plan may say about it (errors located at
// their line), and what `plan show` prints. The workflow's validator uses these same rules; the
// Temporal test test/temporal/approval-window.test.ts checks them through real Updates.
import { describe, expect, it } from 'vitest';
import { loadWithOptions as load } from './plan/load-example.js';
import { upgradePlanKind } from '../../plan/personalization-upgrade/schema.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { ANYONE_ONCE, approvalNote, approvalProblem, gateOpen, type GatePolicy } from '../../plan/approval.js';

const TWO_OF_THREE: GatePolicy = { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, starterMayApprove: false };

describe('approval rules', () => {
  it(
    'a gate named only by its step id opens with one approval from anyone, the starter included (plans before ' +
      '#23, the lab demo)',
    () => {
      expect(approvalProblem('remove-replication', ANYONE_ONCE, [], 'ops', 'ops')).toBeUndefined();
      expect(gateOpen(ANYONE_ONCE, [{ actor: 'ops' }])).toBe(true);
    },
  );

  it(
    'two of three named approvers: the starter, a stranger and a second approval by the same person are ' +
      'refused, each saying who may still approve',
    () => {
      expect(approvalProblem('remove-replication', TWO_OF_THREE, [], 'alice', 'alice')).toBe(
        "alice started this run and may not also approve remove-replication (the plan's starterMayApprove is " +
          'false, the default for remove-replication when approvers are named); 2 more approvals needed, from ' +
          'bob or carol',
      );
      expect(approvalProblem('remove-replication', TWO_OF_THREE, [], 'mallory', 'alice')).toBe(
        'mallory is not an approver of remove-replication (options.approvals names alice, bob, carol); 2 more ' +
          'approvals needed, from bob or carol',
      );
      const given = [{ actor: 'bob' }];
      expect(gateOpen(TWO_OF_THREE, given)).toBe(false);
      expect(approvalProblem('remove-replication', TWO_OF_THREE, given, 'BOB ', 'alice')).toBe(
        'BOB  has already approved remove-replication: each approval must come from a different person; 1 more ' +
          'approval needed, from carol',
      );
      expect(approvalProblem('remove-replication', TWO_OF_THREE, given, 'Carol', 'alice')).toBeUndefined();
      expect(approvalNote(TWO_OF_THREE, given, 'alice')).toBe('1 of 2 approvals (bob); may still approve: carol');
      expect(gateOpen(TWO_OF_THREE, [...given, { actor: 'Carol' }])).toBe(true);
    },
  );

  it('without named approvers, minApprovals counts different people', () => {
    const two: GatePolicy = { minApprovals: 2, starterMayApprove: false };
    expect(approvalProblem('backup', two, [{ actor: 'bob' }], 'bob', 'alice')).toMatch(
      /^bob has already approved backup: .*1 more approval needed, from anyone except alice \(who started the run\) and those who approved \(bob\)$/,
    );
    expect(approvalProblem('backup', two, [{ actor: 'bob' }], 'dave', 'alice')).toBeUndefined();
  });
});

function plan(options: string[]): UpgradePlan {
  const r = load(options);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan as UpgradePlan;
}
function errors(options: string[]) {
  const r = load(options);
  if (r.ok) throw new Error('expected the plan to be invalid');
  return r.errors.map(({ path, line, message }) => ({ path, line, message }));
}

describe('plan: options.approvals with approvers', () => {
  it('a plan that names only gates keeps its behaviour: no approvers, one approval from anyone', () => {
    const p = plan(['  approvals: [remove-replication]']);
    expect(p.options.approvals).toEqual(['remove-replication']);
    expect(p.options.gates).toBeUndefined();
    expect(upgradePlanKind.describe(p).summary).toContain('approvals:    remove-replication');
  });

  it(
    'approvers and minApprovals; the starter may not approve remove-replication by default, and plan show says ' + 'so',
    () => {
      const p = plan([
        '  approvals:',
        '    - gate: remove-replication',
        '      approvers: [alice, bob, carol]',
        '      minApprovals: 2',
        '    - backup',
      ]);
      expect(p.options.approvals).toEqual(['remove-replication', 'backup']);
      expect(p.options.gates).toEqual({
        'remove-replication': { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, starterMayApprove: false },
      });
      expect(upgradePlanKind.describe(p).summary).toContain(
        'approvals:    remove-replication (2 of alice, bob, carol; not the starter), backup',
      );
    },
  );

  it('starterMayApprove: true lets the starter count (a two-person lab)', () => {
    const p = plan(['  approvals: [{ gate: remove-replication, approvers: [alice, bob], starterMayApprove: true }]']);
    expect(p.options.gates?.['remove-replication']).toEqual({
      approvers: ['alice', 'bob'],
      minApprovals: 1,
      starterMayApprove: true,
    });
  });

  it(
    'errors at their line: more approvals than approvers, an approver named twice, a gate twice, an unknown ' + 'step',
    () => {
      expect(
        errors(['  approvals:', '    - gate: remove-replication', '      approvers: [alice]', '      minApprovals: 2']),
      ).toEqual([
        {
          path: 'options.approvals[0].minApprovals',
          line: 13,
          message:
            'minApprovals is 2 but only 1 approver is named (alice): the gate could never open; name more ' +
            'approvers or lower minApprovals',
        },
      ]);
      expect(
        errors([
          '  approvals:',
          '    - { gate: remove-replication, approvers: [alice, Alice] }',
          '    - remove-replication',
        ]),
      ).toEqual([
        {
          path: 'options.approvals[0].approvers[1]',
          line: 11,
          message: '"Alice" is named twice: each approval must come from a different person',
        },
        {
          path: 'options.approvals[1]',
          line: 12,
          message: 'gate remove-replication is listed twice: give it once, with its approvers',
        },
      ]);
      const unknown = errors(['  approvals: [{ gate: remove-replicaton, approvers: [alice] }]']);
      expect(unknown).toHaveLength(1);
      expect(unknown[0]).toMatchObject({ path: 'options.approvals[0].gate', line: 10 });
      expect(unknown[0]!.message).toContain('"remove-replicaton" is not a step of this runbook');
    },
  );
});
