// The report of a runbook other than the upgrade (here agent-schedules, from its recorded history) has its own
// sections: no upgrade sync-round table, its verify step under Verification, the schedules as set-schedules
// left them. A tester read "Sync rounds: none" and "Verification: not run" in a report whose verify step passed.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import proto from '@temporalio/proto';
import { buildReport, renderReportMarkdown, type HistoryEvent } from '../../../activities/report/build.js';

const history = proto.temporal.api.history.v1.History.decode(
  readFileSync(resolve('test/fixtures/histories/agent-schedules.history.pb')),
);
const events = history.events as HistoryEvent[];
const md = renderReportMarkdown(buildReport('agent-schedules-recorded', events, new Map()));
const section = (title: string) => md.split(`## ${title}\n`)[1]?.split('\n## ')[0] ?? '';

describe('the report of an agent-schedules run', () => {
  it('has no sync-round table: the upgrade syncs, this runbook does not', () => {
    expect(md).toContain('agentSchedules');
    expect(md).not.toContain('## Sync rounds');
  });

  it('lists its verify step under Verification, as the run ended it', () => {
    expect(section('Verification').trim()).toBe('verify: done (attempt 1)');
  });

  it('shows the schedules as set-schedules left them, not as a restore-service it does not have', () => {
    expect(section('Merge agent schedules')).toContain(
      '| publisher | subscription | before the run | after set-schedules |',
    );
    expect(md).not.toContain('restore-service');
  });
});
