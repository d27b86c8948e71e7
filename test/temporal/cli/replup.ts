// The real `replup` command as a user runs it: a child process (node cli/bin.mjs …) pointed at the
// suite's dev server, plus a real `replup worker` process, and a plan copied from an example with
// its own lab and its own publisher so its fleet (and workflow id) is this test's alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';

export const BIN = resolve('cli/bin.mjs');

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Where the children's state lives: reports, temp plans and labs. One folder per test file. */
export function scratchDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `replup-${name}-`));
}

export function childEnv(scratch: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: 'default',
    REPLUP_REPORTS_DIR: join(scratch, 'reports'),
    REPLUP_ACTOR: 'e2e-operator',
    ...extra,
  };
}

export function replup(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 150_000): Promise<Ran> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(
        new Error(`replup ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`),
      );
    }, timeoutMs);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  log(): string;
  /** SIGTERM, as an operator stops it; resolves with its exit code once it has shut down. */
  stop(): Promise<number | null>;
}

/** `replup worker` in its own process; resolves once it polls. */
export function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [BIN, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const handle: WorkerProcess = {
    child,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`replup worker did not start within 90 s:\n${log}`));
    }, 90_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      if (log.includes('serving task queue')) {
        clearTimeout(timer);
        res(handle);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`replup worker exited (${code}) before serving:\n${log}`));
    });
  });
}

/**
 * examples/lab-small.yaml, copied with its lab state in `dir`, its publisher renamed to
 * `publisher` (a fleet of its own) and fast retries and drain, so a run takes seconds (the lab's
 * users keep sessions open until the drain deadline: a longer deadline keeps the run busy).
 */
export function labPlanCopy(
  dir: string,
  publisher: string,
  opts: { drainTimeoutSeconds?: number } = {},
): { file: string; state: string; workflowId: string } {
  const state = join(dir, `${publisher}.json`);
  let text = readFileSync(resolve('examples/lab-small.yaml'), 'utf8');
  const swap = (from: string, to: string) => {
    if (!text.includes(from))
      throw new Error(`examples/lab-small.yaml no longer contains "${from}": update labPlanCopy`);
    text = text.replace(from, to);
  };
  swap('state: ../.replup/labs/lab-small.json', `state: ${JSON.stringify(state)}`);
  swap('server: LAB-PUB', `server: ${publisher}`);
  swap('dir: replication ', `dir: ${JSON.stringify(resolve('examples/replication'))} `);
  swap(
    '  approvals: []',
    [
      '  approvals: []',
      `  drainTimeoutSeconds: ${opts.drainTimeoutSeconds ?? 2}`,
      '  retry: { initialSeconds: 0.2, maximumSeconds: 1, maximumAttempts: 20 }',
    ].join('\n'),
  );
  const file = join(dir, `${publisher}.yaml`);
  writeFileSync(file, text);
  // The fleet's id is its name in lower case (workflows/personalization-upgrade.ts upgradeWorkflowId).
  return { file, state, workflowId: `upgrade:${publisher}/PersonalizationServer`.toLowerCase() };
}
