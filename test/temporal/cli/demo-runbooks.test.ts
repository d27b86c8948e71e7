// `replup demo --runbook NAME` as a user runs it: the real CLI in a child process against the suite's dev server
// (TEMPORAL_ADDRESS set, so the demo reuses it). Each runbook besides the upgrade runs its example plan on a fresh
// lab, its approval gates answered by the demo, and ends with the lab's invariants all holding (exit 0). An unknown
// name is refused with the names the demo knows.
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_RUNBOOKS } from '../../../cli/lib/demo-runbooks.js';
import { loadPlanFile } from '../../../plan/load.js';
import { childEnv as sharedEnv, replup, scratchDir } from './replup.js';
import { createNamespace } from './namespace.js';

const scratch = scratchDir('demo-runbooks');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// A namespace of its own: another test's `replup worker` on task queue `replup` in the default namespace would
// take some of the demo's tasks.
const namespace = `demo-runbooks-${process.pid}`;
beforeAll(() => createNamespace(inject('temporalAddress'), namespace), 120_000);
const childEnv = (dir: string) => sharedEnv(dir, { TEMPORAL_NAMESPACE: namespace });

describe('replup demo --runbook', () => {
  it('an unknown runbook is refused, naming the ones the demo runs; nothing starts', async () => {
    const r = await replup(['demo', '--runbook', 'branch-offices'], childEnv(scratch), 60_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--runbook branch-offices: the demo runs no such runbook; nothing was started');
    expect(r.stderr).toContain('upgrade, setup-replication, add-subscriber, remove-subscriber, agent-schedules');
  });

  for (const [name, d] of Object.entries(DEMO_RUNBOOKS)) {
    it.skipIf(!existsSync(d.plan))(
      `${name}: its example plan on a fresh lab, the gates approved by the demo, every invariant holds`,
      async () => {
        const r = await replup(['demo', '--runbook', name], childEnv(scratch), 300_000);
        const say = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
        expect(r.code, say).toBe(0);
        expect(r.stdout, say).toMatch(/^Lab: .* at \.replup\/labs\//m);
        expect(r.stdout, say).toContain('\nLab check:\n');
        expect(r.stdout, say).toMatch(/All \d+ invariants hold for the lab at /);
        expect(r.stdout, say).not.toContain('FAIL  ');
        // The plan's approval gates: the demo answers each and says how a person would.
        const loaded = await loadPlanFile(d.plan);
        const gates =
          loaded.ok && 'options' in loaded.plan ? (loaded.plan.options as { approvals: string[] }).approvals : [];
        for (const gate of gates) {
          expect(r.stdout, say).toMatch(new RegExp(`^The demo approves ${gate} as e2e-operator`, 'm'));
          expect(r.stdout, say).toMatch(new RegExp(`replup approve '\\S+' --gate ${gate} --reason`));
        }
        if (name === 'agent-schedules') {
          expect(r.stdout, say).toMatch(/PASS {2}schedules-as-planned/);
          expect(r.stdout, say).toMatch(/PASS {2}schedules-not-parallel/);
        }
      },
    );
  }
});
