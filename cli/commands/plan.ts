// `replup plan validate <file>` and `replup plan show <file>`: check a plan and see what it would
// do, without running anything. The work is in planValidate/planShow (plain functions the tests
// call); registerPlan only wires them to commander.
import type { Command } from 'commander';
import type { LoadResult } from '../../plan/load.js';
import type { AnyPlan } from '../../plan/registry.js';
import type { PlanError } from '../../plan/source.js';
import { UPGRADE_RUNBOOK } from '../../plan/personalization-upgrade/schema.js';
import { UserError, EXIT } from '../errors.js';
import type { Register } from './index.js';
import { exampleNames, planNew } from './plan-new.js';
import { loadPlan } from '../lib/plan-input.js';
import { captureReport, processStreams, Reporter, type CommandOutput } from '../lib/reporter.js';

export interface PlanCommandOptions {
  json?: boolean;
  /** The statements the SQL Server adapter sends, per step that applies (sqlserver plans only). */
  sql?: boolean;
  /** Terminal width: the last column of tables wraps to fit. */
  width?: number;
}

export async function planValidate(file: string, options: PlanCommandOptions = {}): Promise<CommandOutput> {
  const result = await load(file);
  return captureReport(options.json, (report) => {
    if (!result.ok) return invalid(report, file, result.errors);
    report.result({ ok: true, errors: [] }, () => {
      const steps = result.kind.steps(result.plan);
      const applying = steps.filter((s) => s.applies).length;
      return (
        `${file}: valid ${result.plan.runbook} plan "${result.plan.name}" (${steps.length} steps, ${applying} ` +
        `apply; see \`replup plan show ${file}\`)\n`
      );
    });
    return EXIT.ok;
  });
}

export async function planShow(file: string, options: PlanCommandOptions = {}): Promise<CommandOutput> {
  const result = await load(file);
  if (!result.ok) return captureReport(options.json, (report) => invalid(report, file, result.errors));
  if (options.sql) return planSql(file, result.plan);
  const steps = result.kind.steps(result.plan);
  return captureReport(options.json, (report) =>
    report.result({ plan: result.plan, steps }, () => {
      const { summary, tables } = result.kind.describe(result.plan);
      const width = options.width ?? 120;
      const sections = [
        summary.join('\n'),
        `Steps (${steps.length}, ${steps.filter((s) => s.applies).length} apply)\n` +
          renderTable(
            ['STEP', 'APPLIES', 'REASON'],
            steps.map((s) => [s.id, s.applies ? 'yes' : 'no', s.reason]),
            width,
          ),
        ...tables.map((t) => `${t.title}\n${renderTable(t.columns, t.rows, width)}`),
      ];
      return `${sections.join('\n\n')}\n`;
    }),
  );
}

/** `plan show --sql`: pure, nothing connects; only a SQL Server plan sends SQL. */
async function planSql(file: string, plan: AnyPlan): Promise<CommandOutput> {
  if (
    plan.runbook !== UPGRADE_RUNBOOK &&
    plan.runbook !== 'agent-schedules' &&
    plan.runbook !== 'setup-replication' &&
    plan.runbook !== 'add-subscriber' &&
    plan.runbook !== 'remove-subscriber'
  ) {
    throw new UserError(
      `${file}: --sql shows the SQL Server statements of an ${UPGRADE_RUNBOOK} plan; this plan runs ` +
        `${plan.runbook}, which sends no SQL`,
    );
  }
  if (plan.target.kind !== 'sqlserver') {
    throw new UserError(`${file}: this plan's target is the lab (the simulated fleet), which is sent no SQL`, [
      'to see what a real fleet is sent, show a plan with target: { kind: sqlserver } (examples/sqlserver.yaml)',
    ]);
  }
  // Loaded only here: the statements module stays out of every other command's start-up.
  const { planStatements, renderPlanStatements } = await import('../../activities/sqlserver/plan-sql.js');
  if (plan.runbook === 'setup-replication') {
    const { setupStatements } = await import('../../activities/sqlserver/setup-replication-sql.js');
    return { text: renderPlanStatements(plan, setupStatements(plan)), exitCode: EXIT.ok };
  }
  if (plan.runbook === 'add-subscriber' || plan.runbook === 'remove-subscriber') {
    const s = await import('../../activities/sqlserver/subscribers-sql.js');
    const steps =
      plan.runbook === 'add-subscriber' ? s.addSubscriberStatements(plan) : s.removeSubscriberStatements(plan);
    return { text: renderPlanStatements(plan, steps), exitCode: EXIT.ok };
  }
  if (plan.runbook === 'agent-schedules') {
    const { agentSchedulesStatements } = await import('../../activities/sqlserver/agent-schedules-sql.js');
    return { text: renderPlanStatements(plan, agentSchedulesStatements(plan)), exitCode: EXIT.ok };
  }
  return { text: renderPlanStatements(plan, planStatements(plan)), exitCode: EXIT.ok };
}

/** One line per problem, `file:line:column path: message`, like a compiler, then a count. */
export function formatPlanErrors(file: string, errors: readonly PlanError[]): string {
  const lines = errors.map((e) => `${file}:${e.line}:${e.column} ${e.path ? `${e.path}: ` : ''}${e.message}`);
  lines.push(`${errors.length} ${errors.length === 1 ? 'problem' : 'problems'} in ${file}`);
  return `${lines.join('\n')}\n`;
}

/** Columns padded to their widest cell; the last column wraps at word boundaries to fit `width`. */
export function renderTable(columns: readonly string[], rows: readonly (readonly string[])[], width = 120): string {
  const all = [columns, ...rows];
  const widths = columns.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const lead = widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 0);
  const lastWidth = Math.max(30, width - lead);
  const lines: string[] = [];
  for (const row of all) {
    const cells = columns.map((_, i) => row[i] ?? '');
    const wrapped = wrap(cells[cells.length - 1] ?? '', lastWidth);
    const first = cells
      .slice(0, -1)
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ');
    wrapped.forEach((part, i) =>
      lines.push(`${i === 0 ? first : ' '.repeat(first.length)}${columns.length > 1 ? '  ' : ''}${part}`.trimEnd()),
    );
  }
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

function load(file: string): Promise<LoadResult> {
  return loadPlan(file, ['give the path of a plan file (YAML or JSON); examples/ holds some to start from']);
}

/** An invalid plan: `{ ok: false, errors }` under --json, else one line per problem; exit 1. */
function invalid(report: Reporter, file: string, errors: readonly PlanError[]): number {
  report.result({ ok: false, errors }, () => formatPlanErrors(file, errors));
  return EXIT.failed;
}

export const registerPlan: Register = (program: Command, setExit, io) => {
  const plan = program
    .command('plan')
    .description('check a plan file and see what it would do, without running anything');
  // Each function returns its output already rendered for --json or people (tests call them).
  const print = (output: CommandOutput) => {
    new Reporter(false, io).print(output.text);
    if (output.exitCode !== EXIT.ok) setExit(output.exitCode);
  };
  plan
    .command('validate <file>')
    .description('report every problem in a plan file, with its line and how to fix it (exit 1 when invalid)')
    .option('--json', 'print { ok, errors: [{ path, line, column, message }] }')
    .action(async (file: string, options: { json?: boolean }) => print(await planValidate(file, options)));
  plan
    .command('show <file>')
    .description('the steps that apply and why, and the fleet: sites, publications, subscriptions')
    .option('--json', 'print { plan, steps: [{ id, applies, reason }] }')
    .option(
      '--sql',
      'print the statements the SQL Server adapter sends, step by step, with their parameters (nothing connects)',
    )
    .action(async (file: string, options: { json?: boolean; sql?: boolean }) =>
      print(
        await planShow(file, {
          ...options,
          width: ((io ?? processStreams()).stdout as { columns?: number }).columns ?? 120,
        }),
      ),
    );
  plan
    .command('new <file>')
    .description(
      "write a plan to start from: an example (default lab-small) with its paths rewritten for the file's " +
        'folder and the approval gate on',
    )
    .option('--from <example>', `the example to copy: ${exampleNames().join(', ')}`, 'lab-small')
    .option('--force', 'replace the file if it exists')
    .action((file: string, options: { from: string; force?: boolean }) => print(planNew(file, options)));
};
