// `replup lab init|check` of a schedules plan: the lab holds the example fleet with the vendor's agent schedules,
// and `lab check` holds it to what an agent-schedules run promises, not to the upgrade's invariants.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labCheck, labInit } from '../../../cli/commands/lab.js';

function schedulesPlan(): string {
  const dir = mkdtempSync(join(tmpdir(), 'replup-lab-schedules-'));
  const text = readFileSync('examples/agent-schedules.yaml', 'utf8').replace(
    /state: \S+/,
    `state: ${join(dir, 'lab.json')}`,
  );
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, text);
  return file;
}

describe('replup lab check of an agent-schedules plan', () => {
  it('a lab with the vendor schedules fails both schedule invariants, naming the jobs and the overlap', async () => {
    const plan = schedulesPlan();
    const made = await labInit(plan);
    expect(made.exitCode).toBe(0);
    expect(made.text).toContain('3 databases, 4 personalization servers');
    const check = await labCheck({ plan });
    expect(check.exitCode).toBe(1);
    expect(check.text).toContain("The lab's schedules: checking them against the plan.");
    expect(check.text).toContain(
      'LAB-PUB-PersonalizationServer-Config-LAB-SUB1: every 5 minutes 00:00:00-23:59:59, the plan asked every 5 ' +
        'minutes 01:00:00-23:55:00',
    );
    expect(check.text).toContain('FAIL  schedules-not-parallel');
    expect(check.text).toContain('2 of 2 invariants fail');
  });
});
