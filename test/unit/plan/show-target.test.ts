// Every SQL Server runbook's `plan show` names its target in the same words, so an operator reading
// several plans (or a script grepping them) finds the lab's state file the same way.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planShow } from '../../../cli/commands/plan.js';

const LAB_PLANS = [
  'lab-small.yaml',
  'setup-replication.yaml',
  'add-subscriber.yaml',
  'remove-subscriber.yaml',
  'agent-schedules.yaml',
];

describe("plan show's target line", () => {
  it.each(LAB_PLANS)('%s: "target: lab, state <its state file>"', async (file) => {
    const shown = await planShow(resolve('examples', file));
    expect(shown.exitCode).toBe(0);
    expect(shown.text).toMatch(/^target: +lab, state \/\S+\.json$/m);
  });
});
