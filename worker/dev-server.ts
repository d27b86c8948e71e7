// The Temporal dev server (`temporal server start-dev`) as replup runs it: state in a SQLite file
// so workflows survive restarts, the replup search attributes registered, and the namespace's
// retention raised so the audit outlives the dev server's 24 h default.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import Long from 'long';
import { resolveTemporalCli, type ResolvedTemporalCli } from './temporal-cli.js';

// ReplupFleetId: the fleet as its publisher names itself, recorded at preflight
// (activities/personalization-upgrade/fleet-guard.ts).
export const SEARCH_ATTRIBUTES = ['ReplupStep', 'ReplupStatus', 'ReplupFleet', 'ReplupFleetId'] as const;
export const RETENTION_DAYS = 30;

export interface DevServerOptions {
  dbFile: string;
  port: number;
  uiPort: number;
  namespace?: string;
  /** Where the server's own log goes. */
  logFile: string;
  /** Detached: survives the process that started it (`replup dev`); else a child (tests). */
  detached: boolean;
  log?: (line: string) => void;
}

export interface DevServerHandle {
  address: string;
  uiUrl: string;
  pid?: number;
  cli: ResolvedTemporalCli;
  child?: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => res(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Does a Temporal frontend answer at this address? */
export async function answers(address: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const conn = await Connection.connect({ address, connectTimeout: timeoutMs });
    try {
      await conn.workflowService.getSystemInfo({});
      return true;
    } finally {
      await conn.close();
    }
  } catch {
    return false;
  }
}

async function waitUntil(
  pred: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  isDead?: () => string | undefined,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return;
    const dead = isDead?.();
    if (dead) throw new Error(`${what}: ${dead}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: timed out after ${Math.round(timeoutMs / 1000)} s`);
}

/** Registers the search attributes and raises retention; safe to run again. */
export async function prepareNamespace(address: string, namespace = 'default'): Promise<void> {
  const conn = await Connection.connect({ address });
  try {
    const existing = await conn.operatorService.listSearchAttributes({ namespace });
    const missing = SEARCH_ATTRIBUTES.filter((name) => !(name in (existing.customAttributes ?? {})));
    if (missing.length > 0) {
      await conn.operatorService.addSearchAttributes({
        namespace,
        // 2 = INDEXED_VALUE_TYPE_KEYWORD
        searchAttributes: Object.fromEntries(missing.map((name) => [name, 2])),
      });
    }
    const ns = await conn.workflowService.describeNamespace({ namespace });
    const retention = Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
    if (retention < RETENTION_DAYS * 86_400) {
      await conn.workflowService.updateNamespace({
        namespace,
        config: { workflowExecutionRetentionTtl: { seconds: Long.fromNumber(RETENTION_DAYS * 86_400) } },
      });
    }
  } finally {
    await conn.close();
  }
}

/**
 * The dev server has one history shard, and by default reads that shard's new tasks at most 20
 * times a second: every activity and every workflow task then waits ~40 ms to be dispatched, so a
 * sequential step cost ~100 ms of which 80 was waiting. Unthrottled, ~4 ms (bench/RESULTS.md).
 */
export const DEV_SERVER_TUNING = ['--dynamic-config-value', 'history.transferProcessorMaxPollRPS=100000'];

export async function startDevServer(opts: DevServerOptions): Promise<DevServerHandle> {
  const log = opts.log ?? (() => {});
  const cli = resolveTemporalCli({ log });
  const address = `127.0.0.1:${opts.port}`;
  mkdirSync(dirname(resolve(opts.dbFile)), { recursive: true });
  mkdirSync(dirname(resolve(opts.logFile)), { recursive: true });
  const out = openSync(opts.logFile, 'a');
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    resolve(opts.dbFile),
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--log-level',
    'warn',
    ...DEV_SERVER_TUNING,
    ...SEARCH_ATTRIBUTES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
  ];
  const child = spawn(cli.path, args, { detached: opts.detached, stdio: ['ignore', out, out] });
  closeSync(out);
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `the server exited (${signal ?? code}); see ${opts.logFile}`;
  });
  if (opts.detached) child.unref();
  await waitUntil(
    () => answers(address),
    60_000,
    `Temporal dev server at ${address}`,
    () => exited,
  );
  await prepareNamespace(address, opts.namespace);
  const uiUrl = `http://127.0.0.1:${opts.uiPort}`;
  await waitUntil(
    async () =>
      await fetch(uiUrl)
        .then((r) => r.ok)
        .catch(() => false),
    30_000,
    `Web UI at ${uiUrl}`,
    () => exited,
  );
  return {
    address,
    uiUrl,
    pid: child.pid,
    cli,
    child,
    stop: () => stopPid(child.pid),
  };
}

export async function stopPid(pid: number | undefined, graceMs = 10_000): Promise<void> {
  if (!pid) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}

// --- the user's dev server, as `replup dev` manages it -------------------------------------------

export interface DevServerRecord {
  pid: number;
  address: string;
  uiUrl: string;
  dbFile: string;
  cli: ResolvedTemporalCli;
  startedAt: string;
}

export const DEV_DIR = '.replup';
const recordFile = (dir: string) => resolve(dir, 'dev-server.json');

export function readDevRecord(dir = DEV_DIR): DevServerRecord | undefined {
  const file = recordFile(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevServerRecord;
  } catch {
    return undefined;
  }
}

export interface EnsureDevResult {
  status: 'started' | 'reused';
  address: string;
  uiUrl: string;
  dbFile: string;
  pid?: number;
  cli?: ResolvedTemporalCli;
  /**
   * This folder's `replup dev` started the server at `address` (its record names that address), so
   * `replup dev stop` here stops it; false for a server started elsewhere (another folder, another tool).
   */
  startedHere: boolean;
}

/**
 * Starts the dev server in the background, or reuses the one already answering on the port.
 * Defaults: port 7233, Web UI port + 1000, SQLite file `<dir>/temporal.db` (`temporal-<port>.db` on another port).
 */
export async function ensureDevServer(opts: {
  dir?: string;
  dbFile?: string;
  port?: number;
  uiPort?: number;
  log?: (line: string) => void;
}): Promise<EnsureDevResult> {
  const dir = opts.dir ?? DEV_DIR;
  const port = opts.port ?? 7233;
  // Temporal's own default for the UI: the gRPC port plus 1000. A server on other ports is another
  // server, so it gets its own SQLite file, never the default one's (`replup dev` and `replup demo` agree).
  const uiPort = opts.uiPort ?? port + 1000;
  const dbFile = opts.dbFile ?? resolve(dir, port === 7233 ? 'temporal.db' : `temporal-${port}.db`);
  const address = `127.0.0.1:${port}`;
  if (await answers(address)) {
    await prepareNamespace(address);
    // Only a record of this address describes this server: the folder's record may be of another port.
    const rec = readDevRecord(dir);
    const ours = rec?.address === address ? rec : undefined;
    return {
      status: 'reused',
      address,
      uiUrl: ours?.uiUrl ?? `http://127.0.0.1:${uiPort}`,
      dbFile: ours?.dbFile ?? dbFile,
      pid: ours?.pid,
      startedHere: ours !== undefined,
    };
  }
  const handle = await startDevServer({
    dbFile,
    port,
    uiPort,
    logFile: resolve(dir, 'temporal.log'),
    detached: true,
    log: opts.log,
  });
  const record: DevServerRecord = {
    pid: handle.pid!,
    address,
    uiUrl: handle.uiUrl,
    dbFile: resolve(dbFile),
    cli: handle.cli,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(recordFile(dir), JSON.stringify(record, null, 2));
  return {
    status: 'started',
    address,
    uiUrl: handle.uiUrl,
    dbFile: record.dbFile,
    pid: record.pid,
    cli: handle.cli,
    startedHere: true,
  };
}

/** Stops the dev server `replup dev` started (never one it did not start). */
export async function stopDevServer(dir = DEV_DIR): Promise<DevServerRecord | undefined> {
  const rec = readDevRecord(dir);
  if (!rec) return undefined;
  await stopPid(rec.pid);
  rmSync(recordFile(dir), { force: true });
  return rec;
}
