// `replup start <plan> [--wait]`: validate the plan, launch its runbook, print the id and UI link.
import { existsSync } from 'node:fs';
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { defaultActor, retentionWarning, startUpgrade, type Started } from '../lib/runs.js';
import { startBdbReplicant } from '../lib/start-bdb-replicant.js';
import { startOpenEdge } from '../lib/start-openedge-startup.js';
import { startAddSubscriber } from '../lib/start-add-subscriber.js';
import { startRemoveSubscriber } from '../lib/start-remove-subscriber.js';
import { startSetupReplication } from '../lib/start-setup-replication.js';
import { startAgentSchedules } from '../lib/start-agent-schedules.js';
import type { AnyPlan } from '../../plan/registry.js';
import type { Client } from '@temporalio/client';
import { readPlanOrFail } from '../lib/plan-input.js';
import { followRun } from '../lib/follow.js';
import { EXIT, UserError } from '../errors.js';
import { Reporter } from '../lib/reporter.js';
import { parseWindowTime, startDelayMs, windowProblem, type MaintenanceWindow } from '../../plan/window.js';

export const registerStart: Register = (program, setExit, io) => {
  program
    .command('start <plan>')
    .description('Validate a plan and launch its runbook as a durable workflow')
    .option('--wait', 'wait until the run completes or needs an operator (exit 0, 1 or 3)')
    .option('--actor <name>', 'who starts the run (recorded)', defaultActor())
    .option(
      '--at <time>',
      'start when the maintenance window opens (ISO 8601 with offset, e.g. 2026-12-05T22:00+01:00); ' +
        'overrides options.window.at',
    )
    .option(
      '--not-after <time>',
      'no step from remove-replication on begins after this time (ISO 8601 with offset); overrides ' +
        'options.window.notAfter',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (file: string, opts: { wait?: boolean; actor: string; json?: boolean; at?: string; notAfter?: string }) => {
        const report = new Reporter(opts.json, io);
        const plan = withWindow(await readPlanOrFail(file), opts, Date.now());
        const window = plan.runbook === 'em-personalization-upgrade' ? plan.options.window : undefined;
        const delay = window ? startDelayMs(window, Date.now()) : 0;
        // A run that starts later may find its lab created by then: say so, refuse only a start now.
        const noLab = labMissing(plan, file);
        if (noLab && delay === 0) throw new UserError(`${noLab}; nothing was started`);
        if (noLab) report.warning(`${noLab} before the window opens`);
        const client = await connectClient();
        const started = await startRunbook(client, plan, opts.actor, delay);
        // After the start: a warning must not stop a run, but the operator must read it.
        const short = await retentionWarning(client);
        if (short) report.warning(short);
        // With --wait the document is the run's progress when the wait ends (followRun's).
        if (!opts.wait) report.document(started);
        report.text(
          `Started ${started.workflowId}\n  Web UI: ${started.url}\n  watch:  replup watch '${started.workflowId}'\n`,
        );
        if (delay > 0)
          report.line(
            `  starts: ${window!.at} (Temporal start delay ${Math.round(delay / 1000)} s; until then replup ` +
              `status says scheduled)`,
          );
        if (window?.notAfter)
          report.line(`  window: no step from remove-replication on begins after ${window.notAfter}`);
        if (opts.wait) {
          // Before the start delay has passed there is no workflow code to ask: follow from the window's start.
          if (delay > 0) await new Promise((r) => setTimeout(r, delay + 1000));
          const { stdout: out, stderr: err } = report.streams;
          setExit(await followRun(client, started.workflowId, { render: false, json: opts.json, out, err }));
        } else {
          setExit(EXIT.ok);
        }
      },
    );
};

type Starter<P> = (client: Client, plan: P, actor: string) => Promise<Started>;
type Waitless = Exclude<AnyPlan['runbook'], 'em-personalization-upgrade'>;

/** The start of each runbook without a maintenance window, by its plans' `runbook` value. */
const STARTERS: { readonly [R in Waitless]: Starter<Extract<AnyPlan, { runbook: R }>> } = {
  'bdb-replicant': startBdbReplicant,
  'openedge-replication-startup': startOpenEdge,
  'setup-replication': startSetupReplication,
  'agent-schedules': startAgentSchedules,
  'add-subscriber': startAddSubscriber,
  'remove-subscriber': startRemoveSubscriber,
};

/** Each runbook's plan starts its own workflow; the plan's `runbook` field says which. */
export function startRunbook(client: Client, plan: AnyPlan, actor: string, startDelay = 0): Promise<Started> {
  // Only the upgrade has a maintenance window, so only it starts with a delay.
  if (plan.runbook === 'em-personalization-upgrade')
    return startUpgrade(client, plan, actor, { startDelayMs: startDelay });
  // The table's type ties each runbook to its plan's starter; indexing by the union loses that tie.
  const start = STARTERS[plan.runbook] as Starter<typeof plan>;
  return start(client, plan, actor);
}

/**
 * What is missing when a lab plan's state file does not exist (a user who skipped `replup lab init`):
 * the run's first activity could only fail. The file and the command that creates it; undefined when
 * the lab exists or the plan targets no lab.
 */
export function labMissing(plan: AnyPlan, file: string): string | undefined {
  const target = 'target' in plan ? (plan.target as { kind?: string; state?: string }) : undefined;
  if (target?.kind !== 'lab' || target.state === undefined || existsSync(target.state)) return undefined;
  return `no lab at ${target.state}: create it with \`replup lab init ${file}\``;
}

/**
 * The plan with `--at` / `--not-after` laid over its options.window, checked against the clock:
 * a window that closed already is refused before anything starts; an `at` in the past starts now.
 */
export function withWindow(plan: AnyPlan, opts: { at?: string; notAfter?: string }, now: number): AnyPlan {
  const given = opts.at !== undefined || opts.notAfter !== undefined;
  if (plan.runbook !== 'em-personalization-upgrade') {
    if (given)
      throw new UserError(
        `--at and --not-after apply to em-personalization-upgrade plans; ${plan.runbook} has no maintenance ` +
          `window; nothing was started`,
        [],
        EXIT.usage,
      );
    return plan;
  }
  const time = (text: string | undefined, option: string) => {
    if (text === undefined) return undefined;
    const r = parseWindowTime(text, option);
    if (!r.ok) throw new UserError(`${r.message}; nothing was started`, [], EXIT.usage);
    return r.iso;
  };
  const window: MaintenanceWindow = { ...plan.options.window };
  const at = time(opts.at, '--at');
  const notAfter = time(opts.notAfter, '--not-after');
  if (at !== undefined) window.at = at;
  if (notAfter !== undefined) window.notAfter = notAfter;
  if (window.at === undefined && window.notAfter === undefined) return plan;
  const problem = windowProblem(window, now);
  if (problem) {
    // Name what the operator gave: the flag, else the plan's field.
    const closedAlready = window.at === undefined || Date.parse(window.notAfter!) > Date.parse(window.at);
    const where =
      notAfter !== undefined ? '--not-after' : at !== undefined && !closedAlready ? '--at' : 'options.window.notAfter';
    throw new UserError(`${where}: ${problem.message}; nothing was started`, [], EXIT.usage);
  }
  return { ...plan, options: { ...plan.options, window } };
}
