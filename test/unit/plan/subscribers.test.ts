// The add-subscriber and remove-subscriber plans: the examples load with their defaults, and what is
// wrong is said where it is (file:line:col path: message), as `replup plan validate` prints it.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlanFile } from '../../../plan/load.js';
import { parseAddSubscriberPlan } from '../../../plan/add-subscriber/schema.js';
import { parseRemoveSubscriberPlan } from '../../../plan/remove-subscriber/schema.js';
import { EXAMPLES } from './load-example.js';

const located = (
  r: { ok: true } | { ok: false; errors: { line: number; column: number; path: string; message: string }[] },
) => (r.ok ? [] : r.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`));

describe('subscriber plans', () => {
  it('the examples load with the defaults: Config and Data, the gate before what deletes or drops', async () => {
    const add = await loadPlanFile(path.join(EXAMPLES, 'add-subscriber.yaml'));
    const remove = await loadPlanFile(path.join(EXAMPLES, 'remove-subscriber.yaml'));
    if (!add.ok || add.plan.runbook !== 'add-subscriber') throw new Error(JSON.stringify(add));
    if (!remove.ok || remove.plan.runbook !== 'remove-subscriber') throw new Error(JSON.stringify(remove));
    expect(add.plan.publications.map((p) => p.name)).toEqual(['Config', 'Data']);
    expect(add.plan.options.approvals).toEqual(['create-subscriptions']);
    expect(add.plan.distributor).toEqual({ server: 'LAB-PUB', database: 'distribution' });
    expect(add.plan.scripts.files).toEqual({
      createConfigSubscription: 'CreateConfigSubscription.sql',
      createDataSubscription: 'CreateDataSubscription.sql',
    });
    expect(remove.plan.options.approvals).toEqual(['drop-subscriptions']);
    expect(add.kind.steps(add.plan).map((s) => s.id)).toEqual([
      'preflight',
      'create-subscriptions',
      'synchronize',
      'verify-subscription',
    ]);
  });

  it('says where a plan is wrong: a Web publisher, the subscriber as its own publisher, an unknown step', () => {
    const text = [
      'name: t',
      'runbook: add-subscriber',
      'target: { kind: lab, state: x.json }',
      'publisher: { server: SQL01, edition: Web }',
      'subscriber: { server: SQL01 }',
      'options: { approvals: [synchronise] }',
    ].join('\n');
    expect(located(parseAddSubscriberPlan(text, '/p/add.yaml'))).toEqual([
      expect.stringMatching(/^4:\d+ publisher\.edition: Web can only subscribe to merge publications/),
      expect.stringMatching(/^5:\d+ subscriber: the subscriber is the publisher itself/),
      expect.stringMatching(/^6:\d+ options\.approvals\[0\]: "synchronise" is not a step of this runbook/),
    ]);
  });

  it("takes two-person approval in the upgrade plan's form", () => {
    const text = [
      'name: t',
      'runbook: remove-subscriber',
      'target: { kind: lab, state: x.json }',
      'publisher: { server: SQL01 }',
      'subscriber: { server: BR7 }',
      'options: { approvals: [{ gate: drop-subscriptions, approvers: [alice, bob], minApprovals: 2 }] }',
    ].join('\n');
    const r = parseRemoveSubscriberPlan(text, '/p/r.yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.value.options.approvals).toEqual(['drop-subscriptions']);
    expect(r.value.options.gates).toEqual({
      'drop-subscriptions': { approvers: ['alice', 'bob'], minApprovals: 2, starterMayApprove: true },
    });
  });

  it('a SQL Server target without a canary is refused at validate, before any subscription changes', () => {
    for (const runbook of ['add-subscriber', 'remove-subscriber']) {
      const text = [
        'name: t',
        `runbook: ${runbook}`,
        'target: { kind: sqlserver }',
        'publisher: { server: SQL01 }',
        'subscriber: { server: BR7 }',
      ].join('\n');
      const parse = runbook === 'add-subscriber' ? parseAddSubscriberPlan : parseRemoveSubscriberPlan;
      expect(located(parse(text, '/p/s.yaml'))).toEqual([
        expect.stringMatching(/^3:1 target: a sqlserver target needs canary: \{ write, read \}: T-SQL with @token/),
      ]);
    }
  });

  it('a remove plan needs its subscriber', () => {
    const text = [
      'name: t',
      'runbook: remove-subscriber',
      'target: { kind: lab, state: x.json }',
      'publisher: { server: SQL01 }',
    ].join('\n');
    expect(located(parseRemoveSubscriberPlan(text, '/p/r.yaml')).join('\n')).toMatch(/subscriber/);
  });
});
