// Scenario 1, overhead: the workflow against the same activity functions called one after the
// other by a plain script (bench/script-runbook.ts), on a small fleet with lab latency 0, so what
// remains is what durability costs per activity.
import { createUpgradeActivities } from '../../activities/personalization-upgrade/activities.js';
import { createPortsFor } from '../../worker/ports.js';
import { createFleet } from '../fleet.js';
import { runbookScript } from '../script-runbook.js';
import { summarize, type Summary } from '../stats.js';
import { convergence, runWorkflow } from '../workflow-run.js';
import { scenario, type ScenarioContext } from './scenario.js';

export interface OverheadResult {
  fleet: string;
  workflowMs: Summary;
  workflowRunbookMs: Summary;
  /** With the run report activity. */
  workflowActivities: Summary;
  scriptMs: Summary;
  scriptActivities: Summary;
  ratio: Summary;
  /** Workflow ms per activity (without its report) minus the script's ms per call. */
  overheadPerActivityMs: Summary;
  workflowMaxParallel4Ms: Summary | null;
}

export const overhead = scenario('overhead', 'overhead', '1/5 overhead', measureOverhead);

async function measureOverhead(ctx: ScenarioContext): Promise<OverheadResult> {
  const { sizes } = ctx.config;
  const sequential: { wf: number; wfActs: number; script: number; scriptActs: number; runbook: number }[] = [];
  const parallel: number[] = [];
  for (let rep = 0; rep < sizes.overheadReps; rep++) {
    const wf = await runWorkflow(ctx, `overhead${rep}`, { subscribers: 4, maxParallel: 1, latencyMs: 0 });
    ctx.convergence.push(convergence(wf));
    const { plan } = await createFleet(`script${rep}`, { subscribers: 4, maxParallel: 1, latencyMs: 0 });
    const portsFor = createPortsFor({ targets: ['lab'] });
    const t0 = Date.now();
    const s = await runbookScript(plan, createUpgradeActivities(portsFor), `script-${rep}`);
    const script = Date.now() - t0;
    await portsFor.close();
    // The workflow also writes its run report (one activity reading the history): not in the script.
    const wfActs = wf.activities - 1;
    sequential.push({ wf: wf.wallMs, wfActs, script, scriptActs: s.activities, runbook: wf.runbookMs });
    if (sizes.parallelVariant) {
      const par = await runWorkflow(ctx, `overheadpar${rep}`, { subscribers: 4, maxParallel: 4, latencyMs: 0 });
      ctx.convergence.push(convergence(par));
      parallel.push(par.wallMs);
    }
    ctx.log(
      `overhead rep ${rep + 1}: workflow ${wf.wallMs} ms (${wf.activities} activities), ` +
        `script ${script} ms (${s.activities} calls)` +
        `${parallel.length ? `, workflow maxParallel 4 ${parallel.at(-1)} ms` : ''}`,
    );
  }
  const perActivity = sequential.map((r) => r.runbook / r.wfActs - r.script / r.scriptActs);
  return {
    fleet: '1 publisher, 4 subscribers, lab latency 0, every step applies (from 8.2)',
    workflowMs: summarize(sequential.map((r) => r.wf)),
    workflowRunbookMs: summarize(sequential.map((r) => r.runbook)),
    workflowActivities: summarize(sequential.map((r) => r.wfActs + 1)),
    scriptMs: summarize(sequential.map((r) => r.script)),
    scriptActivities: summarize(sequential.map((r) => r.scriptActs)),
    ratio: summarize(sequential.map((r) => r.wf / r.script)),
    overheadPerActivityMs: summarize(perActivity),
    workflowMaxParallel4Ms: parallel.length ? summarize(parallel) : null,
  };
}
