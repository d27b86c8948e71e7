// `replup lab check` of an add-subscriber or remove-subscriber plan follows what the lab went through, as it
// does for the upgrade: before the gate (not run, or aborted there) it checks what an abort promises and
// passes; a subscriber half added or half removed is held to the whole promise and fails.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labCheck, labInit } from '../../../cli/commands/lab.js';

/** The example plan with its lab in a temp folder; returns the plan file and the lab's state file. */
function planOf(example: string): { plan: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'replup-lab-subscribers-'));
  const state = join(dir, 'lab.json');
  const text = readFileSync(`examples/${example}`, 'utf8')
    .replace(/state: \S+/, `state: ${state}`)
    .replace(/dir: replication\b/, `dir: ${resolve('examples/replication')}`);
  const plan = join(dir, 'plan.yaml');
  writeFileSync(plan, text);
  return { plan, state };
}

/** Drops the first subscription of `subscriber` from the lab's state file, as a run stopped half-way would. */
function dropOneSubscription(state: string, subscriber: string): void {
  const lab = JSON.parse(readFileSync(state, 'utf8')) as { subscriptions: Record<string, { subscriberKey: string }> };
  const [id] = Object.entries(lab.subscriptions).find(([, s]) => s.subscriberKey.startsWith(subscriber))!;
  delete lab.subscriptions[id];
  writeFileSync(state, JSON.stringify(lab));
}

describe('replup lab check of a subscriber plan, before and after its gate', () => {
  it.each([
    ['add-subscriber.yaml', 'nothing subscribed yet', 'before create-subscriptions'],
    ['remove-subscriber.yaml', 'nothing dropped yet', 'before drop-subscriptions'],
  ])('%s on a fresh lab: "%s", what an abort promises holds', async (example, nothing, before) => {
    const { plan } = planOf(example);
    expect((await labInit(plan)).exitCode).toBe(0);
    const check = await labCheck({ plan });
    expect(check.text).toContain(`${nothing} (not run, or aborted ${before}): checking what an abort there promises`);
    expect(check.text).toContain('PASS  fleet-replicating');
    expect(check.exitCode, check.text).toBe(0);
  });

  it('a subscriber with one of its two subscriptions dropped is held to the removal, and fails', async () => {
    const { plan, state } = planOf('remove-subscriber.yaml');
    expect((await labInit(plan)).exitCode).toBe(0);
    dropOneSubscription(state, 'LAB-SUB1');
    const check = await labCheck({ plan });
    expect(check.exitCode).toBe(1);
    expect(check.text).toContain('checking what it promises');
    expect(check.text).toMatch(/FAIL {2}subscriber-removed .*\n.*LAB-PUB\S* still has its \w+ subscription/);
  });
});
