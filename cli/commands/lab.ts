// `replup lab init|show|check|resolve-conflicts|upgrade`: create a simulated fleet from a plan, look at it, and check
// the invariants an upgrade must keep ("nothing lost"). The work is in labInit/labShow/labCheck
// (plain functions the tests call); registerLab only wires them to commander.
import { initSubscriberLab, subscriberVerdict } from '../../activities/lab/subscribers.js';
import type { AddSubscriberPlan, RemoveSubscriberPlan } from '../../plan/add-subscriber/types.js';
import type { Command } from 'commander';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import type { SetupPlan } from '../../plan/setup-replication/types.js';
import { initSetupLab } from '../../activities/lab/setup-replication.js';
import { changeLab, initLab, LabStateError, readLabState, showLab } from '../../activities/lab/index.js';
import { labVerdict } from '../../activities/lab/check.js';
import { agentSchedulesInvariants } from '../../activities/lab/agent-schedules.js';
import type { AgentSchedulesPlan } from '../../plan/agent-schedules/types.js';
import { fileURLToPath } from 'node:url';
import { UserError, EXIT } from '../errors.js';
import { formatPlanErrors } from './plan.js';
import { loadPlan as loadPlanFile } from '../lib/plan-input.js';
import { captureReport, Reporter, type CommandOutput } from '../lib/reporter.js';
import type { Register } from './index.js';
import { wholeNumber } from '../lib/runs.js';
import { count } from '../../common/count.js';

export interface LabInitOptions {
  rows?: number;
  seed?: number;
  conflicts?: number;
  force?: boolean;
  /** Write the lab here instead of the plan's target.state. */
  state?: string;
  json?: boolean;
}

/** Which lab: the one a plan names (target.state), or a state file given directly. */
export interface LabWhere {
  plan?: string;
  state?: string;
}

type LabPlan = UpgradePlan | SetupPlan | AddSubscriberPlan | RemoveSubscriberPlan | AgentSchedulesPlan;

async function loadPlan(file: string): Promise<LabPlan> {
  const result = await loadPlanFile(file);
  if (!result.ok)
    throw new UserError(`${file} is not a valid plan`, formatPlanErrors(file, result.errors).trimEnd().split('\n'));
  // A set-up plan's lab: the fleet's databases without replication (activities/lab/setup-replication.ts).
  if (result.plan.runbook === 'setup-replication') return result.plan;
  // A subscriber plan's lab: its publisher, another subscriber, and its subscriber (activities/lab/subscribers.ts).
  if (result.plan.runbook === 'add-subscriber' || result.plan.runbook === 'remove-subscriber') return result.plan;
  // A schedules plan's lab: the example fleet, replicating, with the vendor's agent schedules.
  if (result.plan.runbook === 'agent-schedules') return result.plan;
  if (result.plan.runbook !== 'em-personalization-upgrade') {
    throw new UserError(
      `${file} is a ${result.plan.runbook} plan: the lab simulates Personalization Server fleets (runbook: ` +
        `em-personalization-upgrade)`,
    );
  }
  return result.plan;
}

/**
 * The fleet a schedules plan's lab holds: examples/lab-small.yaml's (the fleet the example plan names), replicating,
 * with the vendor's agent schedules, at the schedules plan's target.state.
 */
async function schedulesFleet(plan: AgentSchedulesPlan): Promise<UpgradePlan> {
  const example = fileURLToPath(new URL('../../examples/lab-small.yaml', import.meta.url));
  const fleet = await loadPlan(example);
  if (fleet.runbook !== 'em-personalization-upgrade') throw new Error(`${example} is not an upgrade plan`);
  if (plan.target.kind !== 'lab') throw new UserError('a schedules plan for SQL Server has no lab');
  return { ...fleet, target: { kind: 'lab', state: plan.target.state } };
}

/** A schedules lab is held to what the run promises: the plan's schedules, Config and Data never in parallel. */
function schedulesVerdict(state: ReturnType<typeof readState>, plan: AgentSchedulesPlan) {
  return {
    phase: labVerdict(state).phase,
    title: 'schedules: checking them against the plan',
    invariants: agentSchedulesInvariants(state, plan),
  };
}

async function statePathOf(where: LabWhere): Promise<string> {
  if (where.state) return where.state;
  if (!where.plan) throw new UserError('which lab? give a plan file or --state <path>', [], EXIT.usage);
  const plan = await loadPlan(where.plan);
  if (plan.target.kind !== 'lab')
    throw new UserError(`${where.plan} targets SQL Server, not a lab (target.kind: lab with a state file makes one)`);
  return plan.target.state;
}

function readState(path: string) {
  try {
    return readLabState(path);
  } catch (err) {
    if (err instanceof LabStateError) throw new UserError(err.message);
    throw err;
  }
}

export async function labInit(planFile: string, options: LabInitOptions = {}): Promise<CommandOutput> {
  const plan = await loadPlan(planFile);
  let created;
  try {
    const init =
      plan.runbook === 'setup-replication'
        ? (o: Parameters<typeof initLab>[1]) => initSetupLab(plan, o)
        : plan.runbook === 'add-subscriber' || plan.runbook === 'remove-subscriber'
          ? (o: Parameters<typeof initLab>[1]) => initSubscriberLab(plan, o)
          : plan.runbook === 'agent-schedules'
            ? async (o: Parameters<typeof initLab>[1]) => initLab(await schedulesFleet(plan), o)
            : (o: Parameters<typeof initLab>[1]) => initLab(plan, o);
    created = await init({
      rows: options.rows,
      seed: options.seed,
      conflicts: options.conflicts,
      force: options.force,
      statePath: options.state,
    });
  } catch (err) {
    if (err instanceof LabStateError) throw new UserError(err.message);
    throw err;
  }
  const { statePath, state } = created;
  return captureReport(options.json, (report) =>
    report.result({ statePath, state }, () => {
      const dbs = Object.keys(state.databases).length;
      const hosts = Object.keys(state.hosts).length;
      return (
        `Created the lab ${state.name} at ${statePath}: ${dbs} databases, ${hosts} personalization servers, ` +
        (`Personalization Server ${state.from}, seed ${state.seed}` +
          `${state.conflicts.length ? `, ${count(state.conflicts.length, 'conflict')}` : ''}.\n`) +
        `  See it:   replup lab show --state ${statePath}\n  Check it: replup lab check --state ${statePath}\n`
      );
    }),
  );
}

export async function labShow(where: LabWhere, options: { json?: boolean } = {}): Promise<CommandOutput> {
  const state = readState(await statePathOf(where));
  return captureReport(options.json, (report) => report.result(state, () => showLab(state)));
}

/** Exit 1 when any invariant fails. */
export async function labCheck(where: LabWhere, options: { json?: boolean } = {}): Promise<CommandOutput> {
  const path = await statePathOf(where);
  // What is checked follows what the fleet went through: an aborted run is held to what an abort promises.
  const plan = where.plan ? await loadPlan(where.plan) : undefined;
  const { phase, title, invariants } =
    plan?.runbook === 'add-subscriber' || plan?.runbook === 'remove-subscriber'
      ? subscriberVerdict(readState(path), plan)
      : plan?.runbook === 'agent-schedules'
        ? schedulesVerdict(readState(path), plan)
        : labVerdict(readState(path));
  const failed = invariants.filter((i) => !i.ok).length;
  return captureReport(options.json, (report) => {
    report.result({ ok: failed === 0, phase, invariants }, () => {
      const width = Math.max(...invariants.map((i) => i.name.length));
      const lines = [`The lab's ${title}.`];
      lines.push(
        ...invariants.map(
          (i) =>
            `${i.ok ? 'PASS' : 'FAIL'}  ${i.name.padEnd(width)}  ${i.description}\n      ${' '.repeat(width)}` +
            `  ${i.detail}`,
        ),
      );
      lines.push(
        failed
          ? `${failed} of ${invariants.length} invariants fail for the lab at ${path}`
          : `All ${invariants.length} invariants hold for the lab at ${path}`,
      );
      return `${lines.join('\n')}\n`;
    });
    return failed ? EXIT.failed : EXIT.ok;
  });
}

/** `lab resolve-conflicts`: what a DBA does in the conflict viewer, also while a worker holds the lab. */
export async function labResolveConflicts(where: LabWhere, options: { json?: boolean } = {}): Promise<CommandOutput> {
  const statePath = await statePathOf(where);
  let resolved: number;
  try {
    resolved = await changeLab(statePath, { kind: 'resolve-conflicts' });
  } catch (err) {
    if (err instanceof LabStateError) throw new UserError(err.message);
    throw err;
  }
  return captureReport(options.json, (report) =>
    report.result({ resolved }, () => `resolved ${count(resolved, 'conflict')} in ${statePath}\n`, {
      compact: true,
    }),
  );
}

/**
 * `lab upgrade`: what the operator does by hand when the plan says `hosts.upgrade: manual` — the
 * setup on every personalization server and the configuration utility on every database — so a lab
 * run parked at the manual upgrade can be confirmed. Also while a worker holds the lab.
 */
export async function labUpgrade(where: LabWhere, options: { json?: boolean } = {}): Promise<CommandOutput> {
  const statePath = await statePathOf(where);
  const to = readState(statePath).to;
  let upgraded: number;
  try {
    upgraded = await changeLab(statePath, { kind: 'manual-upgrade' });
  } catch (err) {
    // 4929: a database still replicated (the run has not reached its upgrade step yet).
    const message = (err as Error).message;
    if (err instanceof LabStateError || /4929|being published for replication/.test(message)) {
      throw new UserError(`the lab at ${statePath} was not upgraded: ${message}`, [
        'upgrade by hand only once the run waits at the upgrade step (replup status shows it awaiting-confirmation)',
      ]);
    }
    throw err;
  }
  const s = upgraded === 1 ? '' : 's';
  return captureReport(options.json, (report) =>
    report.result(
      { upgraded, to },
      () =>
        `upgraded ${upgraded} personalization server${s} and database${s} to ${to} in ${statePath}` +
        `${upgraded === 0 ? ' (everything was already there)' : ''}\n` +
        `  then tell the run: replup confirm --step upgrade --note "lab upgraded by hand"\n`,
      { compact: true },
    ),
  );
}

export const registerLab: Register = (program: Command, setExit, io) => {
  // Each function returns its output already rendered for --json or people (tests call them).
  const print = (out: CommandOutput) => {
    new Reporter(false, io).print(out.text);
    setExit(out.exitCode);
  };
  const lab = program
    .command('lab')
    .description('The simulated fleet: create it from a plan, show it, check the upgrade kept everything');
  lab
    .command('init <plan>')
    .description("Create a lab from a plan (at the plan's target.state, or --state)")
    .option('--rows <n>', 'rows per replicated table', wholeNumber('--rows', 0), 40)
    .option('--seed <n>', 'seed of the simulation (same seed, same lab)', wholeNumber('--seed', 0), 1)
    .option('--conflicts <n>', 'PK-violation conflicts present from the start', wholeNumber('--conflicts', 0), 0)
    .option('--state <path>', "write the lab here instead of the plan's target.state")
    .option('--force', 'replace an existing lab')
    .option('--json', 'print the created state as JSON')
    .action(async (plan: string, opts: LabInitOptions) => print(await labInit(plan, opts)));
  // The commands over an existing lab: named by its plan or --state, printed for people or --json.
  const onLab = (
    name: string,
    description: string,
    json: string,
    run: (where: LabWhere, options: { json?: boolean }) => Promise<CommandOutput>,
  ) =>
    lab
      .command(`${name} [plan]`)
      .description(description)
      .option('--state <path>', 'the lab state file (instead of a plan)')
      .option('--json', json)
      .action(async (plan: string | undefined, opts: { state?: string; json?: boolean }) =>
        print(await run({ plan, state: opts.state }, opts)),
      );
  onLab(
    'show',
    'Print the fleet: servers, databases, subscriptions, personalization servers',
    'print the whole state as JSON',
    labShow,
  );
  onLab(
    'check',
    'Check what the run promised (a completed upgrade, or an abort before or after removal); exit 1 when ' +
      'any invariant fails',
    'print the invariants as JSON',
    labCheck,
  );
  onLab(
    'resolve-conflicts',
    'Resolve the conflicting rows (as in the conflict viewer); works while a worker runs the lab',
    'print the count as JSON',
    labResolveConflicts,
  );
  onLab(
    'upgrade',
    'The manual upgrade (hosts.upgrade: manual) done by hand: every personalization server and database to ' +
      "the plan's version; then replup confirm --step upgrade",
    'print the count as JSON',
    labUpgrade,
  );
};
