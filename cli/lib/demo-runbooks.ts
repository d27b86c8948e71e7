// `replup demo --runbook NAME`: the runbooks besides the upgrade, each run on a fresh lab with its example plan
// (examples/<name>.yaml). What differs per runbook: how its lab is made, how its run starts, and what the lab must
// hold afterwards. The demo itself (cli/commands/demo.ts) starts the dev server and the worker, follows the run,
// approves the run's gates as the demo's operator, and prints the lab's invariants.
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import type { Client } from '@temporalio/client';
import type { AnyPlan } from '../../plan/registry.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { loadPlanFile } from '../../plan/load.js';
import { initLab, readLabState, type Invariant, type LabState } from '../../activities/lab/index.js';
import { initSetupLab, setupVerdict } from '../../activities/lab/setup-replication.js';
import { addLabSubscriberDatabase, subscriberInvariants } from '../../activities/lab/subscribers.js';
import { agentSchedulesInvariants } from '../../activities/lab/agent-schedules.js';
import { startSetupReplication } from './start-setup-replication.js';
import { startAddSubscriber } from './start-add-subscriber.js';
import { startRemoveSubscriber } from './start-remove-subscriber.js';
import { startAgentSchedules } from './start-agent-schedules.js';
import { setupWorkflowId } from '../../workflows/setup-replication.js';
import { addSubscriberWorkflowId } from '../../workflows/add-subscriber.js';
import { removeSubscriberWorkflowId } from '../../workflows/remove-subscriber.js';
import { agentSchedulesWorkflowId } from '../../workflows/agent-schedules.js';
import { approve, getProgress, type Started } from './runs.js';
import { followRun } from './follow.js';
import type { Reporter } from './reporter.js';
import { EXIT, UserError } from '../errors.js';
import { waitingStep } from '../../common/run-status.js';
import { closest } from '../../plan/suggest.js';

type PlanOf<R extends AnyPlan['runbook']> = Extract<AnyPlan, { runbook: R }>;

const example = (file: string) => fileURLToPath(new URL(`../../examples/${file}`, import.meta.url));

/** One runbook the demo runs on the lab besides the upgrade. */
export interface DemoRunbook<R extends AnyPlan['runbook'] = AnyPlan['runbook']> {
  /** The plan's `runbook` field (also the name `--runbook` takes). */
  runbook: R;
  /** Its example plan (target: a lab). */
  plan: string;
  /** Makes the plan's lab afresh (as lab init --force); returns what the demo says about it. */
  prepare(plan: PlanOf<R> & { target: { kind: 'lab'; state: string } }): Promise<string>;
  workflowId(plan: PlanOf<R>): string;
  start(client: Client, plan: PlanOf<R>, actor: string): Promise<Started>;
  /** What the lab must hold after a completed run: a title and the invariants. */
  check(state: LabState, plan: PlanOf<R>): { title: string; invariants: Invariant[] };
}

/**
 * The upgrade example's fleet (examples/lab-small.yaml: LAB-PUB, LAB-SUB1, LAB-SUB2, replicating Config and Data)
 * made afresh at `state`: the lab the subscriber and schedule runbooks work on.
 */
async function replicatingLab(state: string): Promise<string> {
  const r = await loadPlanFile(example('lab-small.yaml'));
  if (!r.ok || r.plan.runbook !== 'em-personalization-upgrade') throw new Error('examples/lab-small.yaml is invalid');
  const plan: UpgradePlan = { ...r.plan, target: { kind: 'lab', state } };
  const made = await initLab(plan, { force: true });
  return `${made.state.name} (${Object.keys(made.state.databases).length} databases replicating Config and Data)`;
}

const setupReplication: DemoRunbook<'setup-replication'> = {
  runbook: 'setup-replication',
  plan: example('setup-replication.yaml'),
  prepare: async (plan) => {
    const made = await initSetupLab(plan, { force: true });
    return `${made.state.name} (${Object.keys(made.state.databases).length} databases, no replication yet)`;
  },
  workflowId: setupWorkflowId,
  start: startSetupReplication,
  check: (state) => setupVerdict(state),
};

/** What the lab must hold after a subscriber was added or removed (activities/lab/subscribers.ts). */
const subscriberCheck =
  (done: 'added' | 'removed') => (state: LabState, plan: PlanOf<'add-subscriber' | 'remove-subscriber'>) => ({
    title: `${plan.subscriber.server}/${plan.subscriber.database} ${done}: checking what the runbook promises`,
    invariants: subscriberInvariants(
      state,
      done === 'added' ? { added: plan.subscriber } : { removed: plan.subscriber },
    ),
  });

const addSubscriber: DemoRunbook<'add-subscriber'> = {
  runbook: 'add-subscriber',
  plan: example('add-subscriber.yaml'),
  prepare: async (plan) => {
    const fleet = await replicatingLab(plan.target.state);
    const { server, database } = plan.subscriber;
    const key = await addLabSubscriberDatabase(plan.target.state, { server, database });
    return `${fleet}, and ${key} with rows of its own (not subscribed yet)`;
  },
  workflowId: addSubscriberWorkflowId,
  start: startAddSubscriber,
  check: subscriberCheck('added'),
};

const removeSubscriber: DemoRunbook<'remove-subscriber'> = {
  runbook: 'remove-subscriber',
  plan: example('remove-subscriber.yaml'),
  prepare: (plan) => replicatingLab(plan.target.state),
  workflowId: removeSubscriberWorkflowId,
  start: startRemoveSubscriber,
  check: subscriberCheck('removed'),
};

const agentSchedules: DemoRunbook<'agent-schedules'> = {
  runbook: 'agent-schedules',
  plan: example('agent-schedules.yaml'),
  prepare: async (plan) => `${await replicatingLab(plan.target.state)}, with the vendor's agent schedules`,
  workflowId: agentSchedulesWorkflowId,
  start: startAgentSchedules,
  check: (state, plan) => ({
    title: 'schedules set: checking them against the plan',
    invariants: agentSchedulesInvariants(state, plan),
  }),
};

/** The runbooks `replup demo --runbook NAME` runs besides `upgrade` (the default), by name. */
export const DEMO_RUNBOOKS: Record<string, DemoRunbook> = Object.fromEntries(
  [setupReplication, addSubscriber, removeSubscriber, agentSchedules].map((d) => [d.runbook, d as DemoRunbook]),
);

/** Every name `--runbook` takes, the upgrade first. */
export const DEMO_NAMES = ['upgrade', ...Object.keys(DEMO_RUNBOOKS)];

/** The lab's invariants after the run, printed as `replup lab check` prints them; exit code 0 when all hold. */
export function demoCheck(d: DemoRunbook, plan: AnyPlan, statePath: string): { text: string; ok: boolean } {
  const { title, invariants } = d.check(readLabState(statePath), plan);
  const width = Math.max(...invariants.map((i) => i.name.length));
  const failed = invariants.filter((i) => !i.ok).length;
  const lines = [
    `The lab's ${title}.`,
    ...invariants.map(
      (i) =>
        `${i.ok ? 'PASS' : 'FAIL'}  ${i.name.padEnd(width)}  ${i.description}\n      ${' '.repeat(width)}  ${i.detail}`,
    ),
    failed
      ? `${failed} of ${invariants.length} invariants fail for the lab at ${statePath}`
      : `All ${invariants.length} invariants hold for the lab at ${statePath}`,
  ];
  return { text: `${lines.join('\n')}\n`, ok: failed === 0 };
}

/**
 * `--runbook NAME`: undefined for the upgrade (the default), else that runbook's demo. An unknown name, or a name
 * with --plan (which picks another upgrade plan), is refused before anything starts.
 */
export function demoRunbook(name: string | undefined, planGiven: boolean): DemoRunbook | undefined {
  // The plan's own runbook name is accepted too: a plan says `runbook: em-personalization-upgrade`.
  if (name === undefined || name === 'upgrade' || name === 'em-personalization-upgrade') return undefined;
  const d = Object.hasOwn(DEMO_RUNBOOKS, name) ? DEMO_RUNBOOKS[name] : undefined;
  if (!d) {
    const guess = closest(name, DEMO_NAMES);
    throw new UserError(
      `--runbook ${name}: the demo runs no such runbook${guess ? ` (did you mean ${guess}?)` : ''}; nothing ` +
        `was started`,
      [`give one of: ${DEMO_NAMES.join(', ')}`],
      EXIT.usage,
    );
  }
  if (planGiven) {
    throw new UserError(
      `--plan picks another upgrade plan; --runbook ${name} runs ${relative(process.cwd(), d.plan)}; ` +
        'nothing was started',
      [],
      EXIT.usage,
    );
  }
  return d;
}

/** The runbook's example plan, which must be of that runbook and target a lab (the demo re-creates it). */
export function demoRunbookPlan(d: DemoRunbook, plan: AnyPlan, shown: string): AnyPlan & { target: LabTarget } {
  if (plan.runbook !== d.runbook || !('target' in plan) || plan.target.kind !== 'lab') {
    throw new UserError(`${shown} is not a lab plan of runbook ${d.runbook}; nothing was started`);
  }
  return plan as AnyPlan & { target: LabTarget };
}

type LabTarget = { kind: 'lab'; state: string };

/**
 * Follows the run; each approval gate it waits at is approved by the demo's operator (the lab only: a real run
 * waits for a person), saying so with the command that would answer it. Returns followRun's exit code once the run
 * ends, or waits for anything else (a parked step: the commands that answer it are printed).
 */
export async function followApproving(client: Client, id: string, actor: string, out: Reporter): Promise<number> {
  for (;;) {
    const code = await followRun(client, id, { render: true, out: out.streams.stdout, err: out.streams.stderr });
    if (code !== EXIT.waiting) return code;
    const p = await getProgress(client, id);
    const gate = p.status === 'awaiting-approval' ? waitingStep(p.steps) : undefined;
    if (!gate) return code;
    const reason = 'replup demo: approved on the lab';
    out.line(
      `\nThe demo approves ${gate.id} as ${actor} (on the lab; a real run waits for a person to run:\n` +
        `  replup approve '${id}' --gate ${gate.id} --reason "${reason}")\n`,
    );
    await approve(client, id, gate.id, reason, actor);
  }
}
