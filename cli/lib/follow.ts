// Following a run until it completes or needs a person: `watch`, `start --wait` and `demo`.
import type { Client } from '@temporalio/client';
import type { Progress } from '../../workflows/messages.js';
import { getProgress, answerCommands, NoWorkerAnswered } from './runs.js';
import { renderProgress, elapsed } from './render.js';
import { EXIT } from '../errors.js';

export interface FollowOptions {
  /** Show the step table: redrawn in place on a terminal; elsewhere once, then one line per step change. */
  render: boolean;
  json?: boolean;
  intervalMs?: number;
  out?: NodeJS.WritableStream;
}

/** Run statuses after which nothing more happens: replup's own ends and Temporal's (terminate, timeout). */
export const ENDED: readonly string[] = ['completed', 'aborted', 'failed', 'terminated', 'timed-out', 'canceled'];

const clock = () => new Date().toISOString().slice(11, 19);

/** One line per step whose state moved since the last look (logs, CI, pipes). */
function stepChanges(prev: Progress, p: Progress): string[] {
  const lines: string[] = [];
  for (const s of p.steps) {
    const before = prev.steps.find((x) => x.id === s.id);
    if (before && before.status === s.status && before.attempts === s.attempts) continue;
    const took = s.startedAt && s.endedAt ? ` in ${elapsed(s.startedAt, Date.parse(s.endedAt))}` : '';
    const detail = s.status === 'awaiting-operator' ? s.lastError : s.note;
    lines.push(`${clock()} ${s.id} ${s.status}${took}${detail ? `: ${detail}` : ''}`);
  }
  return lines;
}

/** Returns the exit code: 0 completed, 1 aborted, failed or ended outside replup, 3 waiting for an operator (or paused). */
export async function followRun(client: Client, id: string, opts: FollowOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const tty = opts.render && (out as NodeJS.WriteStream).isTTY === true;
  let prev: Progress | undefined;
  let lastLine = '';
  let toldNoWorker = false;
  for (;;) {
    let p: Progress;
    try {
      p = await getProgress(client, id);
    } catch (err) {
      // A worker restarting (or not started yet) is not the end of the run: keep watching.
      if (!(err instanceof NoWorkerAnswered) || err.ended) throw err;
      if (!toldNoWorker) process.stderr.write(`replup: ${err.message}; still watching (start one with: replup worker)\n`);
      toldNoWorker = true;
      continue;
    }
    toldNoWorker = false;
    // Paused is a person holding the run: as good as waiting for one (exit 3, the answers printed).
    const waiting = p.status.startsWith('awaiting-') || p.status === 'paused';
    const ended = ENDED.includes(p.status);
    if (tty) {
      // Home, draw each line over the old one, clear what is left: no flicker.
      const screen = renderProgress(p, id, Date.now()).split('\n').map((l) => `${l}\x1b[K`).join('\n');
      out.write(`${prev ? '' : '\x1b[2J'}\x1b[H${screen}\n\x1b[J`);
    } else if (opts.render) {
      if (!prev) out.write(`${renderProgress(p, id, Date.now())}\n\n`);
      else {
        for (const line of stepChanges(prev, p)) out.write(`${line}\n`);
        if (ended || waiting) out.write(`\n${renderProgress(p, id, Date.now())}\n`);
      }
    } else if (!opts.json) {
      const line = `${p.status}${p.current ? ` at ${p.current}` : ''}`;
      if (line !== lastLine) out.write(`${new Date().toISOString()} ${line}\n`);
      lastLine = line;
    }
    prev = p;
    if (ended || waiting) {
      if (opts.json) out.write(`${JSON.stringify(p, null, 2)}\n`);
      if (waiting && !opts.json) {
        const s = p.steps.find((x) => x.status.startsWith('awaiting-'));
        if (s) out.write(`\nThe run needs an operator at ${s.id} (${s.status})${s.lastError ? `: ${s.lastError}` : ''}\n`);
        else {
          const pause = [...p.decisions].reverse().find((d) => d.kind === 'pause');
          out.write(`\nThe run is paused${p.current ? ` after ${p.current}` : ''}${pause ? ` by ${pause.actor}${pause.reason ? `: ${pause.reason}` : ''}` : ''}\n`);
        }
        out.write('Answer with one of:\n');
        for (const c of answerCommands(p, id)) out.write(`  ${c}\n`);
      }
      if (p.status !== 'completed' && ended && p.outcome && !opts.json && !opts.render) out.write(`${p.outcome}\n`);
      return ended ? (p.status === 'completed' ? EXIT.ok : EXIT.failed) : EXIT.waiting;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
}
