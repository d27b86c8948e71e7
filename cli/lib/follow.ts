// Following a run until it completes or needs a person: `watch`, `start --wait` and `demo`.
import type { Client } from '@temporalio/client';
import type { Progress } from '../../workflows/messages.js';
import { getProgress, answerCommands, NoWorkerAnswered, uiUrl } from './runs.js';
import { exitForStatus, lastPublished, lastPublishedText } from './last-published.js';
import { renderProgress, elapsed } from './render.js';
import { isEnded, isHeld, waitingStep } from '../../common/run-status.js';
import { Reporter, type Output } from './reporter.js';

export interface FollowOptions {
  /** Show the step table: redrawn in place on a terminal; elsewhere once, then one line per step change. */
  render: boolean;
  /** Only the final progress, as one JSON document (the Reporter's --json). */
  json?: boolean;
  intervalMs?: number;
  /** stdout (default the process's); a terminal (isTTY) gets the table redrawn in place. */
  out?: Output;
  /** stderr (default the process's): that no worker answers yet. */
  err?: Output;
}

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

/** Who or what the run waits for, and the commands that answer it. */
function waitingText(p: Progress, id: string): string {
  const s = waitingStep(p.steps);
  let why: string;
  if (s) why = `\nThe run needs an operator at ${s.id} (${s.status})${s.lastError ? `: ${s.lastError}` : ''}\n`;
  else {
    const pause = [...p.decisions].reverse().find((d) => d.kind === 'pause');
    const by = pause ? ` by ${pause.actor}${pause.reason ? `: ${pause.reason}` : ''}` : '';
    why = `\nThe run is paused${p.current ? ` after ${p.current}` : ''}${by}\n`;
  }
  return `${why}Answer with one of:\n${answerCommands(p, id)
    .map((c) => `  ${c}\n`)
    .join('')}`;
}

/**
 * Returns the exit code: 0 completed, 1 aborted, failed or ended outside replup, 3 waiting for an operator (or paused).
 * While no worker answers an open run it keeps polling (saying so once, with what the run last published); a run
 * that ended with no worker to ask ends the follow with what it last published.
 */
export async function followRun(client: Client, id: string, opts: FollowOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const report = new Reporter(opts.json, { stdout: out, stderr: opts.err ?? process.stderr });
  const tty = opts.render && (out as Partial<NodeJS.WriteStream>).isTTY === true;
  let prev: Progress | undefined;
  let lastLine = '';
  let toldNoWorker = false;
  for (;;) {
    let p: Progress;
    try {
      p = await getProgress(client, id);
    } catch (err) {
      if (!(err instanceof NoWorkerAnswered)) throw err;
      if (err.ended || !toldNoWorker) {
        const lp = await lastPublished(client, id, uiUrl(client, id), err.message);
        if (err.ended) {
          report.error(err.message);
          report.result(lp, () => lastPublishedText(lp));
          return exitForStatus(lp.status);
        }
        // A worker restarting (or not started yet) is not the end of the run: keep watching.
        report.error(`${err.message}; still watching until a worker answers (start one with: replup worker)`);
        if (opts.render) report.text(`${tty ? '\x1b[2J\x1b[H' : ''}${lastPublishedText(lp)}\n`);
        toldNoWorker = true;
      }
      // A failed query may come back at once: poll at the interval, as when it answers.
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
      continue;
    }
    toldNoWorker = false;
    // Paused is a person holding the run: as good as waiting for one (exit 3, the answers printed).
    const waiting = isHeld(p.status);
    const ended = isEnded(p.status);
    if (tty) {
      // Home, draw each line over the old one, clear what is left: no flicker.
      const screen = renderProgress(p, id, Date.now())
        .split('\n')
        .map((l) => `${l}\x1b[K`)
        .join('\n');
      report.text(`${prev ? '' : '\x1b[2J'}\x1b[H${screen}\n\x1b[J`);
    } else if (opts.render) {
      if (!prev) report.text(`${renderProgress(p, id, Date.now())}\n\n`);
      else {
        for (const line of stepChanges(prev, p)) report.line(line);
        if (ended || waiting) report.text(`\n${renderProgress(p, id, Date.now())}\n`);
      }
    } else {
      const line = `${p.status}${p.current ? ` at ${p.current}` : ''}`;
      if (line !== lastLine) report.line(`${new Date().toISOString()} ${line}`);
      lastLine = line;
    }
    prev = p;
    if (ended || waiting) {
      report.document(p);
      if (waiting) report.text(waitingText(p, id));
      if (p.status !== 'completed' && ended && p.outcome && !opts.render) report.line(p.outcome);
      return exitForStatus(p.status);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
}
