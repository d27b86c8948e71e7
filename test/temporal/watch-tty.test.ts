// `replup watch` in a real terminal (tmux): it draws the step table and redraws it in place while
// the run goes on, then leaves with exit 0 when the run completes.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  childEnv,
  labPlanCopy,
  replup,
  scratchDir,
  startWorkerProcess,
  type WorkerProcess,
} from './cli/replup.js';

const scratch = scratchDir('watch-tty');
const env = childEnv(scratch, { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' });
const socket = join(scratch, 'tmux.sock'); // a tmux server of our own, killed afterwards
const tag = `${process.pid}-${Date.now().toString(36)}`.toUpperCase();
let worker: WorkerProcess | undefined;

const tmux = (...args: string[]) => execFileSync('tmux', ['-u', '-S', socket, ...args], { env, encoding: 'utf8' });
const pane = () => tmux('capture-pane', '-p', '-t', 'watch');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function paneWhen(pred: (text: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = pane();
    if (pred(text)) return text;
    await sleep(200);
  }
  throw new Error(`the watch pane never showed ${what}; it shows:\n${text}`);
}
const elapsedOf = (text: string) => /: RUNNING at \S+, (\d+m\d\ds) elapsed/.exec(text)?.[1];

beforeAll(async () => {
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    /* not started */
  }
  await worker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('replup watch in a terminal', () => {
  it('renders the step table, refreshes it in place (the elapsed time moves), and exits 0 at completion', async () => {
    // The lab's users stay connected until the drain deadline: 8 s of a visibly running step.
    const plan = labPlanCopy(scratch, `E2E-TTY-${tag}`, { drainTimeoutSeconds: 8 });
    expect((await replup(['lab', 'init', plan.file], env)).code).toBe(0);
    const started = await replup(['start', plan.file], env);
    expect(started.code, started.stderr).toBe(0);

    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const command =
      `${q(process.execPath)} ${q(BIN)} watch ${q(plan.workflowId)} --interval 250; echo "watch exited $?"; ` +
      `sleep 600`;
    tmux('new-session', '-d', '-s', 'watch', '-x', '150', '-y', '30', command);

    const first = await paneWhen(
      (t) => elapsedOf(t) !== undefined && t.includes('drain-users'),
      'a running step table',
    );
    await sleep(2_200);
    const second = await paneWhen((t) => elapsedOf(t) !== undefined, 'the table again');
    for (const screen of [first, second]) {
      expect(screen).toContain(`lab-small — em-personalization-upgrade on E2E-TTY-${tag}/PersonalizationServer`);
      for (const step of [
        'preflight',
        'drain-users',
        'sync-until-quiet',
        'remove-replication',
        'enable-replication',
        'restore-service',
      ]) {
        expect(screen).toMatch(new RegExp(`^[·▶✓!?↷–✗] ${step} +(pending|running|done)`, 'm'));
      }
      // Redrawn in place: one header on screen, not a scroll of frames.
      expect(screen.match(/elapsed/g)).toHaveLength(1);
    }
    expect(first).toMatch(/^✓ preflight +done/m);
    expect(elapsedOf(second)).not.toBe(elapsedOf(first));

    const last = await paneWhen((t) => t.includes('watch exited'), 'the end of the run', 90_000);
    expect(last).toContain('watch exited 0');
    expect(last).toMatch(/: COMPLETED, \d+m\d\ds elapsed/);
    expect(last).toMatch(/^✓ restore-service +done/m);
  });
});
