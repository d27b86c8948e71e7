// The real processes the fault suites drive: a `replup worker` process (what an operator runs,
// started as `node cli/bin.mjs worker`) that can be SIGKILLed, and a Temporal dev server of the
// suite's own that can be restarted from its SQLite file. Never the shared test server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { freePort, startDevServer, type DevServerHandle } from '../../worker/dev-server.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** Resolves when the worker printed that it serves its task queue. */
  ready: Promise<number>;
  /** Resolves when the process has exited, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  alive(): boolean;
  kill(): Promise<void>;
}

/**
 * Starts `replup worker` with its output appended to `logFile` (the operator's view of the
 * worker's log). `env` adds to the environment: TEMPORAL_ADDRESS, REPLUP_LAB_CRASH_AT, secrets.
 */
export function startWorkerProcess(opts: { env: Record<string, string>; logFile: string }): WorkerProcess {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const out = openSync(opts.logFile, 'a');
  const startedAt = Date.now();
  const child = spawn(process.execPath, [join(ROOT, 'cli/bin.mjs'), 'worker'], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((res) =>
    child.on('exit', (code, signal) => {
      done = true;
      res({ code, signal, at: Date.now() });
    }),
  );
  const ready = (async () => {
    const marker = `replup worker serving task queue replup (pid ${child.pid})`;
    while (!done) {
      if (readFileSync(opts.logFile, 'utf8').includes(marker)) return Date.now();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the worker (pid ${child.pid}) exited before serving; see ${opts.logFile}`);
  })();
  ready.catch(() => undefined);
  return {
    child,
    pid: child.pid!,
    startedAt,
    ready,
    exited,
    alive: () => !done,
    async kill() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A dev server on its own ports and SQLite file, restartable from that file. */
export class OwnDevServer {
  private handle: DevServerHandle | undefined;
  private constructor(
    readonly dbFile: string,
    readonly port: number,
    readonly uiPort: number,
    readonly logFile: string,
  ) {}

  static async start(dir: string): Promise<OwnDevServer> {
    mkdirSync(dir, { recursive: true });
    const s = new OwnDevServer(join(dir, 'temporal.db'), await freePort(), await freePort(), join(dir, 'temporal.log'));
    await s.up();
    return s;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private async up(): Promise<void> {
    this.handle = await startDevServer({
      dbFile: this.dbFile,
      port: this.port,
      uiPort: this.uiPort,
      logFile: this.logFile,
      detached: false,
    });
  }

  /** Stops the server and starts it again on the same ports from the same SQLite file; returns the downtime in ms. */
  async restart(): Promise<number> {
    const t0 = Date.now();
    await this.handle?.stop();
    await this.up();
    return Date.now() - t0;
  }

  async stop(): Promise<void> {
    await this.handle?.stop();
    this.handle = undefined;
  }
}
