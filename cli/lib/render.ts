// How a run looks in a terminal: the step table with progress bars (status, watch). Pure.
import type { Progress, StepProgress } from '../../workflows/messages.js';
import { asShown } from '../../workflows/step-view.js';

const ICON: Record<StepProgress['status'], string> = {
  pending: '·',
  'not-applicable': '–',
  running: '▶',
  'awaiting-operator': '!',
  'awaiting-approval': '?',
  'awaiting-confirmation': '?',
  done: '✓',
  skipped: '↷',
  aborted: '✗',
  'not reached': '○',
};

export function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}

export function elapsed(fromIso: string, toMs: number): string {
  const s = Math.max(0, Math.round((toMs - Date.parse(fromIso)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

export function renderProgress(progress: Progress, id: string, nowMs: number): string {
  const p = asShown(progress); // steps an ended run never began: "not reached"
  const end = p.endedAt ? Date.parse(p.endedAt) : nowMs;
  const lines = [
    `${p.planName} — ${p.runbook} on ${p.fleet}`,
    `run ${id}: ${p.status.toUpperCase()}${p.current ? ` at ${p.current}` : ''}, ${elapsed(p.startedAt, end)} elapsed`,
    '',
  ];
  const width = Math.max(...p.steps.map((s) => s.id.length));
  for (const s of p.steps) {
    const tries = s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
    const counter = s.total !== undefined && s.status === 'running' ? ` ${bar(s.done ?? 0, s.total)}` : '';
    const took = s.startedAt && s.endedAt ? ` ${elapsed(s.startedAt, Date.parse(s.endedAt))}` : '';
    const detail = s.status === 'not-applicable' ? s.reason : (s.note ?? '');
    lines.push(
      `${ICON[s.status]} ${s.id.padEnd(width)}  ${s.status.padEnd(21)}${counter}${took}${tries}  ${detail}`.trimEnd(),
    );
    if (s.lastError && s.status === 'awaiting-operator') lines.push(`  ${' '.repeat(width)}  error: ${s.lastError}`);
  }
  if (p.outcome) lines.push('', p.outcome);
  return lines.join('\n');
}
