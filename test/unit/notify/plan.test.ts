// The plan's notify: section as an operator writes it: references accepted, a literal webhook URL
// refused without being repeated, and `plan show` naming the targets by reference only.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planShow, planValidate } from '../../../cli/commands/plan.js';
import { loadPlanFile } from '../../../plan/load.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import { EXAMPLES } from '../plan/load-example.js';

let dir: string;
let base: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'replup-notify-plan-'));
  base = (await readFile(path.join(EXAMPLES, 'lab-small.yaml'), 'utf8')).replace(
    /dir: replication\b/,
    `dir: ${path.join(EXAMPLES, 'replication')}`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** lab-small.yaml with these lines (a notify: section) after it, as `name` in the test's folder. */
async function planWith(notify: string[], name = 'plan.yaml'): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `${base}\n${notify.join('\n')}\n`);
  return file;
}

const SECRET = 'https://hooks.slack.com/services/T000/B000/SECRETTOKEN';

describe('notify: in a plan', () => {
  it('targets with env:/file: references load, with the default events and the reminder interval', async () => {
    const file = await planWith([
      'notify:',
      '  remindEveryMinutes: 30',
      '  targets:',
      '    - { kind: slack, name: ops, url: env:REPLUP_SLACK_WEBHOOK_URL }',
      '    - { kind: webhook, url: file:/etc/replup/hook }',
    ]);
    const r = await loadPlanFile(file);
    expect(r.ok).toBe(true);
    const plan = (r as { plan: UpgradePlan }).plan;
    expect(plan.notify).toEqual({
      targets: [
        { name: 'ops', kind: 'slack', url: 'env:REPLUP_SLACK_WEBHOOK_URL' },
        { name: 'webhook', kind: 'webhook', url: 'file:/etc/replup/hook' },
      ],
      events: ['parked', 'waiting', 'completed', 'aborted', 'failed', 'reminder'],
      remindEveryMinutes: 30,
    });
  });

  it('a literal webhook URL is refused with the fix, and the URL is not repeated', async () => {
    const file = await planWith(['notify:', '  targets:', `    - { kind: slack, url: "${SECRET}" }`], 'literal.yaml');
    const out = await planValidate(file);
    expect(out.exitCode).not.toBe(0);
    expect(out.text).toMatch(/notify\.targets\[0\]\.url: a webhook URL is a secret/);
    expect(out.text).toContain('url: env:REPLUP_SLACK_WEBHOOK_URL');
    expect(out.text).not.toContain('SECRETTOKEN');
    expect(out.text).not.toContain('hooks.slack.com');
  });

  it('two targets with one name, an unknown kind and reminders without the reminder event are each named', async () => {
    const twoTeams = [
      'notify:',
      '  events: [parked]',
      '  remindEveryMinutes: 5',
      '  targets:',
      '    - { kind: teams, url: env:A }',
      '    - { kind: teams, url: env:B }',
    ];
    const file = await planWith([...twoTeams, '    - { kind: email, url: env:C }'], 'bad.yaml');
    const out = await planValidate(file);
    expect(out.text).toMatch(/notify\.targets\[2\]\.kind: kind is one of webhook, slack, teams/);
    // zod stops at the first failing target list; the duplicate name and the reminder rule show once it is fixed.
    const fixed = await planWith(twoTeams, 'bad2.yaml');
    const out2 = await planValidate(fixed);
    expect(out2.text).toMatch(/notify\.targets\[1\]\.name: two targets are named "teams"/);
    expect(out2.text).toMatch(/notify\.remindEveryMinutes: reminders are set but events does not list reminder/);
  });

  it('plan show prints each target by name, kind and reference, the events and the reminder', async () => {
    const file = await planWith(
      [
        'notify:',
        '  remindEveryMinutes: 15',
        '  targets:',
        '    - { kind: teams, name: dba-channel, url: env:REPLUP_TEAMS_WEBHOOK_URL }',
      ],
      'show.yaml',
    );
    const out = await planShow(file);
    expect(out.text).toContain('notify:       dba-channel (teams, url env:REPLUP_TEAMS_WEBHOOK_URL)');
    expect(out.text).toContain(
      'events:     parked, waiting, completed, aborted, failed, reminder; reminder every 15 min while a ' +
        'person is awaited',
    );
    const none = await planShow(path.join(EXAMPLES, 'lab-small.yaml'));
    expect(none.text).toContain('notify:       nobody (no notify: section)');
  });
});

describe("notify: in the other runbooks' plans", () => {
  for (const example of ['bdb/plan.yaml', 'openedge/plan.yaml']) {
    it(`${example}: accepted, normalized and shown; a literal URL refused`, async () => {
      // plan validate wants the bdb example's master environment to exist (examples/bdb/setup.ts makes it): a non-empty
      // folder stands in.
      const text = (await readFile(path.join(EXAMPLES, example), 'utf8')).replace(
        'envDir: ../../.replup/bdb/master/db',
        'envDir: .',
      );
      // Written beside the example so its relative paths still resolve.
      const file = path.join(EXAMPLES, path.dirname(example), `.notify-test-${process.pid}.yaml`);
      try {
        await writeFile(
          file,
          `${text}\nnotify:\n  targets:\n    - { kind: webhook, name: pager, url: env:REPLUP_PAGER_URL }\n`,
        );
        const r = await loadPlanFile(file);
        expect(r.ok).toBe(true);
        expect((r as { plan: { notify?: unknown } }).plan.notify).toEqual({
          targets: [{ name: 'pager', kind: 'webhook', url: 'env:REPLUP_PAGER_URL' }],
          events: ['parked', 'waiting', 'completed', 'aborted', 'failed', 'reminder'],
        });
        expect((await planShow(file)).text).toContain('notify:       pager (webhook, url env:REPLUP_PAGER_URL)');
        await writeFile(
          file,
          `${text}\nnotify:\n  targets:\n    - { kind: webhook, url: "https://pager.example/hook/SECRET" }\n`,
        );
        const bad = await planValidate(file);
        expect(bad.text).toMatch(/notify\.targets\[0\]\.url: a webhook URL is a secret/);
        expect(bad.text).not.toContain('SECRET');
      } finally {
        await rm(file, { force: true });
      }
    });
  }
});
