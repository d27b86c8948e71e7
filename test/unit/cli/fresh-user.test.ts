// Follow-ups a new user found (issues #16 and #21): `replup plan new` writes a plan that works
// where it lands (a plain copy of the example does not); what an ended run never got to reads
// "not reached" in the step table, the Web UI's details and --json; a manual step offers abort.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPlanFile } from '../../../plan/load.js';
import { planNew } from '../../../cli/commands/plan-new.js';
import { UserError } from '../../../cli/errors.js';
import { renderProgress } from '../../../cli/lib/render.js';
import { answerCommands } from '../../../cli/lib/runs.js';
import { renderStepTable } from '../../../workflows/runbook.js';
import { asShown, NOT_REACHED } from '../../../workflows/step-view.js';
import type { Progress, StepProgress } from '../../../workflows/messages.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'replup-fresh-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('replup plan new', () => {
  it(
    'a plain copy of examples/lab-small.yaml elsewhere is ' + 'invalid: its scripts folder is relative to examples/',
    async () => {
      const dir = tmp();
      copyFileSync(resolve('examples/lab-small.yaml'), join(dir, 'plan.yaml'));
      const r = await loadPlanFile(join(dir, 'plan.yaml'));
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r.ok ? [] : r.errors)).toContain(
        `scripts folder ${join(dir, 'replication')} does not exist`,
      );
    },
  );

  it(
    'writes the example with its paths made right for the new folder, the lab beside it and the approval gate ' +
      'on; the plan validates',
    async () => {
      const dir = tmp();
      const file = join(dir, 'plan.yaml');
      const out = planNew(file);
      expect(out.exitCode).toBe(0);
      expect(out.text).toContain('Next: replup plan validate');
      const r = await loadPlanFile(file);
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      const plan = r.plan as {
        target: { kind: string; state: string };
        scripts: { dir: string };
        options: { approvals: string[] };
      };
      expect(plan.target).toEqual({ kind: 'lab', state: join(dir, '.replup', 'labs', 'plan.json') });
      expect(plan.scripts.dir).toBe(resolve('examples/replication'));
      expect(plan.options.approvals).toEqual(['remove-replication']);
      // What the example says about itself that would mislead here is gone; its notes stay.
      const text = readFileSync(file, 'utf8');
      expect(text).not.toContain('examples/lab-small.yaml     the steps');
      expect(text).not.toContain('approvals: []');
      expect(text).toContain('# Express can subscribe (never publish)');
    },
  );

  it('never overwrites a file without --force, and names the examples when --from is unknown', () => {
    const dir = tmp();
    const file = join(dir, 'plan.yaml');
    writeFileSync(file, 'mine\n');
    expect(() => planNew(file)).toThrow(/exists already; nothing was written/);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
    planNew(file, { force: true });
    expect(readFileSync(file, 'utf8')).toContain('runbook: em-personalization-upgrade');
    let err: unknown;
    try {
      planNew(join(dir, 'other.yaml'), { from: 'nope' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).detail.join(' ')).toMatch(/lab-small.*|.*lab-small/);
    expect(existsSync(join(dir, 'other.yaml'))).toBe(false);
  });
});

const step = (id: string, status: StepProgress['status'], extra: Partial<StepProgress> = {}): StepProgress => ({
  id,
  title: id,
  applies: true,
  reason: '',
  status,
  attempts: 0,
  skippable: false,
  ...extra,
});

function progress(status: Progress['status'], current: string | undefined, steps: StepProgress[]): Progress {
  return {
    runbook: 'em-personalization-upgrade',
    fleet: 'LAB-PUB/PersonalizationServer',
    planName: 'lab-small',
    status,
    current,
    steps,
    decisions: [],
    facts: {},
    startedAt: '2026-12-05T07:00:00Z',
    endedAt: '2026-12-05T07:05:00Z',
  };
}

describe('steps an ended run never got to read "not reached"', () => {
  // Aborted at the approval gate: the gate step was where the run stood; after it, nothing began.
  const p = progress('aborted', 'remove-replication', [
    step('drain-users', 'done', { attempts: 1, startedAt: '2026-12-05T07:00:01Z', endedAt: '2026-12-05T07:00:02Z' }),
    step('sync-until-quiet', 'aborted', { attempts: 2, startedAt: '2026-12-05T07:00:03Z' }),
    step('remove-replication', 'aborted'),
    step('upgrade', 'aborted'),
    step('enable-replication', 'pending'),
  ]);

  it('in --json (the progress the CLI returns), the step table and the Web UI details', () => {
    const shown = asShown(p);
    expect(shown.steps.map((s) => s.status)).toEqual(['done', 'aborted', 'aborted', NOT_REACHED, NOT_REACHED]);
    const table = renderProgress(p, 'id', Date.parse('2026-12-05T07:06:00Z'));
    expect(table).toMatch(/^○ upgrade +not reached/m);
    expect(table).toMatch(/^○ enable-replication +not reached/m);
    expect(table).toMatch(/^✗ remove-replication +aborted/m);
    expect(table).not.toMatch(/^✗ upgrade/m);
    const details = renderStepTable(p);
    expect(details).toContain('| upgrade | not reached |');
    expect(details).toContain('| remove-replication | aborted |');
  });

  it('while the run is open nothing is "not reached" yet', () => {
    const open = progress('awaiting-operator', 'sync-until-quiet', [
      step('sync-until-quiet', 'awaiting-operator', { attempts: 1 }),
      step('upgrade', 'pending'),
    ]);
    expect(asShown(open)).toBe(open);
  });

  it('a manual step waiting for confirmation offers abort as well', () => {
    const waiting = progress('awaiting-confirmation', 'upgrade', [
      step('upgrade', 'awaiting-confirmation', { attempts: 1 }),
    ]);
    expect(answerCommands(waiting, 'upgrade:lab-pub/personalizationserver')).toEqual([
      `replup confirm 'upgrade:lab-pub/personalizationserver' --step upgrade --note "..."`,
      `replup abort 'upgrade:lab-pub/personalizationserver' --step upgrade --reason "..."`,
    ]);
  });
});
