// `replup report <id> [--json|--md] [--out DIR]`: the run report, rebuilt from the workflow's
// history (and its batch children's) — the same report the workflow wrote when it ended.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { resolveRunId } from '../lib/runs.js';
import {
  reportFromHistory,
  renderReportMarkdown,
  writeReportFiles,
  type RunReport,
} from '../../activities/report/index.js';
import { UserError, EXIT } from '../errors.js';
import { Reporter } from '../lib/reporter.js';

export interface ReportOptions {
  json?: boolean;
  md?: boolean;
  out?: string;
  run?: string;
}

/** The report of run `id`; a UserError when there is no such run. */
export async function runReport(client: Client, id: string, runId?: string): Promise<RunReport> {
  try {
    return await reportFromHistory(client, id, runId);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || (err as { code?: number })?.code === 5) {
      throw new UserError(
        `no run with id ${id}${runId ? ` and run id ${runId}` : ''} in namespace ${client.options.namespace}`,
        ['list the runs: replup list (past ones: replup list --status completed, --status aborted)'],
      );
    }
    throw err;
  }
}

/**
 * What `replup report` prints: the Markdown, or the report as JSON, or with --out the paths of
 * both files written (either way). Errors: UserError for --json with --md, or no such run.
 */
export async function reportCommand(client: Client, id: string, opts: ReportOptions, out: Reporter): Promise<void> {
  if (opts.json && opts.md)
    throw new UserError(
      '--json and --md exclude each other: pick one (with --out both files are written)',
      [],
      EXIT.usage,
    );
  // The id as the plan spells the fleet, or as replup stores it (lower case).
  const report = await runReport(client, await resolveRunId(client, id), opts.run);
  if (opts.out) {
    const files = await writeReportFiles(report, opts.out);
    out.print(`${files.markdown}\n${files.json}\n`);
    return;
  }
  out.result(report, () => renderReportMarkdown(report));
}

export const registerReport: Register = (program, _setExit, io) => {
  program
    .command('report <id>')
    .description(
      'Rebuild a run report from the workflow history: steps, activities, decisions, sync rounds, verification',
    )
    .option('--json', 'print the report as JSON (for tools)')
    .option('--md', 'print the report as Markdown (the default)')
    .option(
      '--out <dir>',
      'write <id>.<run id>.md and .json into this folder instead of printing (every run keeps its own)',
    )
    .option('--run <runId>', 'an earlier run of the same workflow id (default: the latest)')
    .action(async (id: string, opts: ReportOptions) => {
      const client = await connectClient();
      await reportCommand(client, id, opts, new Reporter(opts.json, io));
    });
};
