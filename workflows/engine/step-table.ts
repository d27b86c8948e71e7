// The Markdown step table the Temporal UI shows as a run's current details. Pure.
import type { Progress } from '../messages.js';
import { asShown } from '../step-view.js';

/** The Markdown step table for `p`: header line, window, one row per step, operator decisions. */
export function renderStepTable(p: Progress): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = asShown(p).steps.map((s, i) => {
    // "(3 of 3)", not "3/3": the UI's Markdown would render a fraction glyph.
    const counter = s.total !== undefined && s.status === 'running' ? ` (${s.done ?? 0} of ${s.total})` : '';
    // While a retried step runs, its last error belongs to the attempt before.
    const error = s.lastError
      ? s.status === 'running'
        ? `previous attempt: ${s.lastError}`
        : `error: ${s.lastError}`
      : '';
    const detail = s.status === 'not-applicable' ? s.reason : [s.note, error].filter(Boolean).join(' — ');
    return `| ${i + 1} | ${s.id} | ${s.status}${counter} | ${s.attempts} | ${cell(detail)} |`;
  });
  const decisions = p.decisions.map(
    (d) =>
      `- ${d.at} **${d.kind}**${d.step ? ` \`${d.step}\`` : ''} by ${cell(d.actor)}` +
      `${d.reason ? `: ${cell(d.reason)}` : ''}`,
  );
  const w = p.window;
  const window = w
    ? [
        `Maintenance window: ${w.at ? `from ${w.at}` : 'from the start'}` +
          `${w.notAfter ? `, no step from remove-replication on begins after ${w.notAfter}` : ''}`,
        '',
      ]
    : [];
  return [
    `**${p.planName}** — ${p.runbook} on ${p.fleet}: **${p.status}**${p.current ? ` at \`${p.current}\`` : ''}`,
    '',
    ...window,
    '| # | step | status | attempts | detail |',
    '|---|------|--------|----------|--------|',
    ...rows,
    ...(decisions.length ? ['', '**Operator decisions**', '', ...decisions] : []),
  ].join('\n');
}
