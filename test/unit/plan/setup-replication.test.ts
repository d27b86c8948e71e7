// The set-up plan (issue 24): its examples load; mistakes are reported where they are written; the
// read committed snapshot choice is made per database; plan show says the tempdb cost.
import { describe, expect, it } from 'vitest';
import { loadPlanText } from '../../../plan/load.js';
import { setupPlanKind, RCSI_COST } from '../../../plan/setup-replication/schema.js';
import type { SetupPlan } from '../../../plan/setup-replication/types.js';
import { loadExample } from './load-example.js';

const PLAN = [
  'name: t', // 1
  'runbook: setup-replication', // 2
  'target: { kind: lab, state: lab.json }', // 3
  'publisher: { server: PUB, sqlVersion: 16.0.1000.6 }', // 4
  'subscribers: [{ server: SUB1, sqlVersion: 15.0.2000.5 }, { server: SUB2 }]', // 5
  'scripts: { dir: replication }', // 6
];
const load = (...more: string[]) => loadPlanText([...PLAN, ...more].join('\n') + '\n', '/plans/t.yaml');

describe('setup-replication plans', () => {
  it('the examples load: the simple form and the branch-office form', async () => {
    const simple = (await loadExample('setup-replication.yaml')) as unknown as SetupPlan;
    expect(simple.publications.map((p) => p.name)).toEqual(['Config', 'Data']);
    expect(simple.readCommittedSnapshot.filter((c) => c.on).map((c) => c.site)).toEqual([
      'LAB-MASTER/PersonalizationServer',
    ]);
    const branches = (await loadExample('setup-branch-office.yaml')) as unknown as SetupPlan;
    expect(branches.publications.map((p) => `${p.name}@${p.publisher}`)).toEqual([
      'Config@HQ-SQL/PersonalizationServer',
      'Data@LEEDS-SQL/PersonalizationServer',
      'Data@MUENCHEN-SQL/PersonalizationServer',
    ]);
  });

  it('the read committed snapshot choice is required, per database or for all', () => {
    const missing = load();
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.errors[0]).toMatchObject({ path: 'readCommittedSnapshot', line: 1 });
    const r = load('readCommittedSnapshot: { default: true, SUB1/PersonalizationServer: false }');
    expect(r.ok).toBe(true);
    if (r.ok) expect((r.plan as SetupPlan).readCommittedSnapshot.map((c) => c.on)).toEqual([true, false, true]);
  });

  it('mistakes are located: an unknown database, a subscriber newer than its publisher, an unknown gate', () => {
    const r = load(
      'readCommittedSnapshot: { NOPE/X: true }', // 7
      'options: { approvals: [subscribe] }', // 8
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => `${e.line} ${e.path}`)).toEqual([
      '7 readCommittedSnapshot["NOPE/X"]',
      '8 options.approvals[0]',
    ]);
    const newer = load('readCommittedSnapshot: false').ok;
    expect(newer).toBe(true);
    const bad = loadPlanText(
      [
        ...PLAN.slice(0, 4),
        'subscribers: [{ server: SUB1, sqlVersion: 17.0.1000.6 }]',
        PLAN[5],
        'readCommittedSnapshot: false',
      ]
        .join('\n')
        .concat('\n'),
      '/plans/t.yaml',
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toMatchObject({ path: 'subscribers[0].sqlVersion', line: 5 });
  });

  it('plan show states the tempdb cost, with the Microsoft page, when any database has it on', () => {
    const r = load('readCommittedSnapshot: { PUB/PersonalizationServer: true }');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const shown = setupPlanKind.describe(r.plan as SetupPlan).summary.join('\n');
    expect(shown).toContain('read committed snapshot: 1 of 3');
    expect(shown).toContain('sql-server-transaction-locking-and-row-versioning-guide');
    expect(shown).toContain('A copy of the data before modification is stored in tempdb');
    expect(RCSI_COST.join(' ')).toContain('increase in the usage of the tempdb');
  });
});
