// What a bench run writes: results.json's shape, the targets the figures are held to, the table
// printed at the end, and the figures section of bench/RESULTS.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatSummary, summarize, type Summary } from './stats.js';
import type { Convergence } from './workflow-run.js';
import type { FanOutResult } from './scenarios/fan-out.js';
import { MEASURED_SEQUENTIAL } from './scenarios/fan-out.js';
import type { HistoryResult } from './scenarios/history.js';
import type { OverheadResult } from './scenarios/overhead.js';
import type { ResumeResult } from './scenarios/resume.js';

/** The machine the bench ran on (the load average says how shared it was). */
export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  freeMemoryGiBAtStart: number;
  loadAverageAtStart: number[];
  node: string;
  shared: string;
}

export interface ConvergenceSummary {
  runs: number;
  usedRounds?: Summary;
  minimumRounds?: Summary;
  extraRounds?: Summary;
  runsAboveMinimum: number;
}

export interface Target {
  target: string;
  value: number | null;
  limit: number;
  /** null: not measured in this run (see note). */
  ok: boolean | null;
  note?: string;
}

/** bench/results.json. */
export interface Results {
  command: string;
  mode: 'quick' | 'full';
  startedAt: string;
  durationS: number;
  machine: Machine & { loadAverageAtEnd: number[] };
  overhead?: OverheadResult;
  fanOut?: FanOutResult;
  history?: HistoryResult;
  resume?: ResumeResult;
  convergence: ConvergenceSummary;
  targets: Target[];
}

/** Rounds used, the minimum and the extra over every workflow run of the bench. */
export function summarizeConvergence(conv: Convergence[]): ConvergenceSummary {
  return {
    runs: conv.length,
    usedRounds: conv.length ? summarize(conv.map((c) => c.used)) : undefined,
    minimumRounds: conv.length ? summarize(conv.map((c) => c.minimum)) : undefined,
    extraRounds: conv.length ? summarize(conv.map((c) => c.extra)) : undefined,
    runsAboveMinimum: conv.filter((c) => c.extra > 0).length,
  };
}

/** The targets (bench/RESULTS.md) with what this run measured; one not measured is left out or says so. */
export function targets(r: Pick<Results, 'overhead' | 'fanOut' | 'history' | 'resume' | 'convergence'>): Target[] {
  const fan200 = r.fanOut?.runs.find((x) => x.subscribers === 200);
  const hist1000 = r.history?.find((h) => h.subscribers === 1000);
  const history: Target = hist1000
    ? {
        target: 'parent history ≤ 10,000 events at N = 1000',
        value: hist1000.parentEvents,
        limit: 10_000,
        ok: hist1000.parentEvents <= 10_000,
      }
    : {
        target: 'parent history ≤ 10,000 events at N = 1000',
        value: null,
        limit: 10_000,
        ok: null,
        note: 'not measured in this run (N = 1000 is in the full run only)',
      };
  const o = r.overhead?.overheadPerActivityMs.median;
  const resume = r.resume?.resumeMs.median;
  const extra = r.convergence.extraRounds?.max;
  const all: (Target | undefined)[] = [
    o !== undefined ? { target: 'overhead ≤ 15 ms per activity', value: o, limit: 15, ok: o <= 15 } : undefined,
    fan200
      ? {
          target: 'efficiency ≥ 0.9 at N = 200',
          value: fan200.efficiency.median,
          limit: 0.9,
          ok: fan200.efficiency.median >= 0.9,
        }
      : undefined,
    history,
    resume !== undefined
      ? { target: 'resume ≤ 15 s', value: resume / 1000, limit: 15, ok: resume <= 15_000 }
      : undefined,
    extra !== undefined ? { target: 'rounds = minimum + 0', value: extra, limit: 0, ok: extra === 0 } : undefined,
  ];
  return all.filter((t): t is Target => t !== undefined);
}

/** The table printed at the end of a run (and put into RESULTS.md). */
export function renderTable(r: Omit<Results, 'mode'>): string {
  const head = [
    `replup benchmarks — ${r.command}, ${r.startedAt}, ${r.durationS} s`,
    '',
    `machine: ${r.machine.nproc} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, node ${r.machine.node}; ` +
      `load average ${r.machine.loadAverageAtStart.join(' ')} at start, ` +
      `${r.machine.loadAverageAtEnd.join(' ')} at end (shared machine)`,
    '',
    'figures: median (min–max)',
  ];
  const o = r.overhead;
  const overheadLines = o
    ? [
        `1. Overhead (${o.fleet}; workflow with maxParallel 1, like the script)`,
        '',
        '| | wall ms | activities |',
        '|---|---|---|',
        `| workflow | ${formatSummary(o.workflowMs)} | ${formatSummary(o.workflowActivities)} (incl. the run report) |`,
        `| workflow without its run report | ${formatSummary(o.workflowRunbookMs)} | |`,
        `| plain script, same activity functions | ${formatSummary(o.scriptMs)} | ` +
          `${formatSummary(o.scriptActivities)} |`,
        ...(o.workflowMaxParallel4Ms
          ? [`| workflow, maxParallel 4 | ${formatSummary(o.workflowMaxParallel4Ms)} | |`]
          : []),
        '',
        `ratio workflow / script: ${formatSummary(o.ratio, 1)}; ` +
          `overhead per activity: ${formatSummary(o.overheadPerActivityMs, 1, ' ms')}`,
      ]
    : [];
  const f = r.fanOut;
  const fanOutLines = f
    ? [
        `2. Fan-out (lab latency ${f.latencyMs} ms per operation, maxParallel = N, ` +
          `worker concurrency ${f.workerConcurrency})`,
        '',
        '| N | wall s | critical path s | efficiency | sequential s | speed-up | activities | lab ops | ' +
          'CPU busy (bench + server) |',
        '|---|---|---|---|---|---|---|---|---|',
        ...f.runs.map((x) => {
          const s = (v: Summary, d = 1, div = 1000) =>
            formatSummary({ ...v, median: v.median / div, min: v.min / div, max: v.max / div }, d);
          const seq = x.sequentialSource === MEASURED_SEQUENTIAL ? '' : ' (extrapolated)';
          return (
            `| ${x.subscribers} | ${s(x.wallMs)} | ${s(x.criticalPathMs)} | ${s(x.efficiency, 2, 1)} ` +
            `| ${s(x.sequentialMs)}${seq} ` +
            `| ${s(x.speedUp, 1, 1)} | ${s(x.activities, 0, 1)} | ${s(x.labOperations, 0, 1)} | ${s(x.cpuBusy, 2, 1)} |`
          );
        }),
        '',
        `extrapolated sequential time = lab operations × ${f.latencyMs} ms + ` +
          `activities × ${f.sequentialPerActivityOverheadMs.toFixed(1)} ms ` +
          '(the per-activity cost of the measured sequential runs)',
      ]
    : [];
  const historyLines = r.history
    ? [
        '3. History',
        '',
        '| N | parent events | total events | per subscriber | child batches |',
        '|---|---|---|---|---|',
        ...r.history.map(
          (h) =>
            `| ${h.subscribers} | ${h.parentEvents} | ${h.totalEvents} | ` +
            `${h.eventsPerSubscriber.toFixed(1)} | ${h.childWorkflows} |`,
        ),
      ]
    : [];
  const resumeLines = r.resume
    ? [
        `4. Resume after SIGKILL (${r.resume.fleet})`,
        '',
        `kill → next lab operation: ${formatSummary(r.resume.resumeMs, 0, ' ms')}; ` +
          `worker process ready after ${formatSummary(r.resume.workerRestartMs, 0, ' ms')}`,
      ]
    : [];
  const c = r.convergence;
  const convergenceLines =
    c.usedRounds && c.minimumRounds && c.extraRounds
      ? [
          `5. Convergence (${c.runs} runs): rounds used ${formatSummary(c.usedRounds)}, ` +
            `minimum ${formatSummary(c.minimumRounds)}, ` +
            `extra ${formatSummary(c.extraRounds)}; ${c.runsAboveMinimum} runs above the minimum`,
        ]
      : [];
  const targetLines = [
    'Targets',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...r.targets.map(
      (t) =>
        `| ${t.target} | ${t.value === null ? '—' : Number(t.value.toFixed(2))} | ` +
        `${t.ok === null ? t.note : t.ok ? 'yes' : 'no'} |`,
    ),
  ];
  return [head, overheadLines, fanOutLines, historyLines, resumeLines, convergenceLines, targetLines]
    .filter((section) => section.length)
    .map((section) => section.join('\n'))
    .join('\n\n');
}

const BEGIN = '<!-- figures: written by `npm run bench` (full run); edit outside these markers -->';
const END = '<!-- end of figures -->';

/** Replaces the figures section of bench/RESULTS.md (or starts the file with one). */
export function writeResultsMarkdown(table: string, r: Pick<Results, 'command'>): void {
  const file = resolve('bench/RESULTS.md');
  const figures = [BEGIN, '', `Command: \`${r.command}\``, '', table, '', END].join('\n');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const a = old.indexOf(BEGIN);
  const b = old.indexOf(END);
  const text =
    a >= 0 && b > a
      ? `${old.slice(0, a)}${figures}${old.slice(b + END.length)}`
      : `# Benchmark results\n\n${figures}\n${old}`;
  writeFileSync(file, text);
}
