// Following a run until it completes or needs a person: `watch` and `start --wait`.
import type { Client } from '@temporalio/client';
import { getProgress, answerCommands } from './runs.js';
import { renderProgress } from './render.js';
import { EXIT } from '../errors.js';

export interface FollowOptions {
  /** Redraw the step table (a terminal); false prints only status changes. */
  render: boolean;
  json?: boolean;
  intervalMs?: number;
  out?: NodeJS.WritableStream;
}

/** Returns the exit code: 0 completed, 1 aborted or failed, 3 waiting for an operator. */
export async function followRun(client: Client, id: string, opts: FollowOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const tty = opts.render && (out as NodeJS.WriteStream).isTTY;
  let last = '';
  for (;;) {
    const p = await getProgress(client, id);
    const waiting = p.status.startsWith('awaiting-');
    const ended = ['completed', 'aborted', 'failed'].includes(p.status);
    if (opts.render) {
      const screen = renderProgress(p, id, Date.now());
      if (tty) out.write(`\x1b[H\x1b[2J${screen}\n`);
      else if (screen !== last) out.write(`${screen}\n\n`);
      last = screen;
    } else if (!opts.json) {
      const line = `${p.status}${p.current ? ` at ${p.current}` : ''}`;
      if (line !== last) out.write(`${new Date().toISOString()} ${line}\n`);
      last = line;
    }
    if (ended || waiting) {
      if (opts.json) out.write(`${JSON.stringify(p, null, 2)}\n`);
      if (waiting && !opts.json) {
        const s = p.steps.find((x) => x.status.startsWith('awaiting-'))!;
        out.write(`\nThe run needs an operator at ${s.id} (${s.status})${s.lastError ? `: ${s.lastError}` : ''}\nAnswer with one of:\n`);
        for (const c of answerCommands(p, id)) out.write(`  ${c}\n`);
      }
      return ended ? (p.status === 'completed' ? EXIT.ok : EXIT.failed) : EXIT.waiting;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
}
