// The TapeTrack service, as the runbook controls it (DOMAIN.md §2).
// - `local` (this machine): a small wrapper that runs `db5.3_recover -e -h ENV` (db_replicate will
//   not create an environment), then `db5.3_replicate -h ENV [-M]` detached, its stdout and
//   stderr appended to the message log, its pid in a pid file; stop = SIGTERM (db_replicate
//   stops its repmgr threads cleanly), SIGKILL after a grace period.
// - `command` (real servers): shell command templates with {host}, {envDir} and {role}.
// Readiness is read from the environment either way, so the worker must see envDir.
import { exec, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { autoInitOffLines, logDirOrRefuse, type BdbRole } from './db-config.js';
import {
  logSize,
  LogWaitError,
  REPLICANT_JOIN_FAILURE,
  REPLICANT_JOINED,
  waitForLog,
  type LogMatch,
} from './message-log.js';
import { bdbTool, runTool, toolErrors } from './tools.js';
import { BdbServiceError, type ServiceErrorCode } from './errors.js';

export type ServiceControl = { kind: 'local' } | { kind: 'command'; start: string; stop: string; status?: string };

export interface BdbService {
  role: BdbRole;
  host: string;
  envDir: string;
  control: ServiceControl;
  /** The message log (the seed's $DB_Msg.txt); default ENV/DB_Msg.txt. */
  messageLog?: string;
}

export const PID_FILE = 'replup-service.pid';
export const messageLogOf = (svc: BdbService): string => svc.messageLog ?? path.join(svc.envDir, 'DB_Msg.txt');

export { BdbServiceError, type ServiceErrorCode };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return true;
}

/** A pid is our service only if it is alive, not a zombie, and is db_replicate on this env (pids get reused). */
async function isServiceProcess(pid: number, envDir: string): Promise<boolean> {
  if (!alive(pid)) return false;
  const [cmdline, procStat] = await Promise.all([
    readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined),
    readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined),
  ]);
  if (cmdline === undefined) return true; // no /proc: trust kill(pid, 0)
  if (procStat && / Z /.test(procStat.slice(procStat.lastIndexOf(')')))) return false;
  const args = cmdline.split('\0');
  return args.some((a) => a.endsWith('replicate')) && args.includes(path.resolve(envDir));
}

/** The pid of the local service running on this environment, if any. */
export async function localServicePid(envDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(envDir, PID_FILE), 'utf8').catch(() => undefined);
  const pid = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(pid) && (await isServiceProcess(pid, envDir)) ? pid : undefined;
}

function fill(template: string, svc: BdbService): string {
  return template.replaceAll('{host}', svc.host).replaceAll('{envDir}', svc.envDir).replaceAll('{role}', svc.role);
}

function shell(command: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    exec(command, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

export type ServiceState = 'running' | 'stopped';

export async function serviceState(svc: BdbService): Promise<ServiceState> {
  if (svc.control.kind === 'local') return (await localServicePid(svc.envDir)) === undefined ? 'stopped' : 'running';
  if (!svc.control.status)
    throw new BdbServiceError(
      'COMMAND_FAILED',
      `no status command for the ${svc.role} service on ${svc.host}: add service.status to the plan`,
      false,
    );
  return (await shell(fill(svc.control.status, svc), 60_000)).code === 0 ? 'running' : 'stopped';
}

export interface StopResult {
  wasRunning: boolean;
  pid?: number;
  /** SIGKILL when the service did not stop within the grace period. */
  signal?: 'SIGTERM' | 'SIGKILL';
}

/** Signals a process; false when it is already gone (ESRCH), which is what stopping wants. */
function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** A plan's start or stop command for the service (5 minutes at most); a non-zero exit is retryable. */
async function runControlCommand(svc: BdbService, what: 'starting' | 'stopping', template: string): Promise<void> {
  const r = await shell(fill(template, svc), 5 * 60_000);
  if (r.code !== 0)
    throw new BdbServiceError(
      'COMMAND_FAILED',
      `${what} the ${svc.role} service on ${svc.host} failed (exit ${r.code}): ${r.output}`,
      true,
    );
}

export async function stopService(svc: BdbService, opts: { graceMs?: number } = {}): Promise<StopResult> {
  if (svc.control.kind === 'command') {
    await runControlCommand(svc, 'stopping', svc.control.stop);
    return { wasRunning: true };
  }
  const pidFile = path.join(svc.envDir, PID_FILE);
  const pid = await localServicePid(svc.envDir);
  if (pid === undefined) {
    await rm(pidFile, { force: true });
    return { wasRunning: false };
  }
  if (!sendSignal(pid, 'SIGTERM')) {
    await rm(pidFile, { force: true });
    return { wasRunning: true, pid, signal: 'SIGTERM' };
  }
  const deadline = Date.now() + (opts.graceMs ?? 10_000);
  while (Date.now() < deadline && (await isServiceProcess(pid, svc.envDir))) await sleep(100);
  let signal: StopResult['signal'] = 'SIGTERM';
  // It may end between the look and the kill: then SIGTERM did it.
  if ((await isServiceProcess(pid, svc.envDir)) && sendSignal(pid, 'SIGKILL')) {
    signal = 'SIGKILL';
    while (await isServiceProcess(pid, svc.envDir)) await sleep(50);
  }
  await rm(pidFile, { force: true });
  return { wasRunning: true, pid, signal };
}

export interface StartResult {
  alreadyRunning: boolean;
  pid?: number;
  /** The message-log lines that show the service is up (replicant: joined and start-up done). */
  evidence: string[];
}

export interface StartOptions {
  /** How long to wait for the master role / the replicant's start-up (internal init of a large database takes time). */
  startupTimeoutMs?: number;
}

/**
 * Start the service and wait until it is ready: the master until `db5.3_stat -r` says master,
 * the replicant until its log shows it connected, elected and finished start-up. A replicant
 * whose master is not answering exits after ~10-15 s with DB_REP_UNAVAIL (seen on loopback):
 * that is a BdbServiceError with code DB_REP_UNAVAIL, retryable.
 */
export async function startService(svc: BdbService, opts: StartOptions = {}): Promise<StartResult> {
  const timeoutMs = opts.startupTimeoutMs ?? 120_000;
  if ((svc.control.kind === 'local' || svc.control.status) && (await serviceState(svc)) === 'running') {
    await waitReadyByStat(svc, timeoutMs);
    return { alreadyRunning: true, pid: await localServicePid(svc.envDir), evidence: [] };
  }
  const log = messageLogOf(svc);
  const offset = await logSize(log);
  let pid: number | undefined;
  let running: () => Promise<boolean>;
  if (svc.control.kind === 'local') {
    pid = await spawnLocal(svc, log);
    const started = pid;
    running = () => isServiceProcess(started, svc.envDir);
  } else {
    await runControlCommand(svc, 'starting', svc.control.start);
    const status = svc.control.status;
    running = async () => (status ? (await shell(fill(status, svc), 60_000)).code === 0 : true);
  }
  try {
    const evidence: LogMatch[] =
      svc.role === 'replicant'
        ? await waitForLog(log, REPLICANT_JOINED, timeoutMs, {
            fromOffset: offset,
            stillRunning: running,
            failOn: [REPLICANT_JOIN_FAILURE],
          })
        : [];
    if (svc.role === 'master') await waitReadyByStat(svc, timeoutMs, running);
    return { alreadyRunning: false, pid, evidence: evidence.map((m) => m.line) };
  } catch (caught) {
    let err = caught;
    if (err instanceof LogWaitError && err.tail.length === 0) {
      const since = await readFile(log, 'utf8').then(
        (t) => t.slice(offset),
        () => '',
      );
      err = new LogWaitError(err.message, err.missing, since.trim().split('\n').slice(-8), err.exited, err.failedOn);
    }
    if (err instanceof LogWaitError && err.failedOn) return joinFailed(svc, err);
    throw explainStartFailure(svc, err);
  }
}

/**
 * A replicant that logs "join failure" keeps running and never joins: stop it (so a retry starts
 * it again, not waits on it) and say why, naming the DB_CONFIG line that turned automatic
 * internal initialisation off.
 */
async function joinFailed(svc: BdbService, err: LogWaitError): Promise<never> {
  await stopService(svc).catch(() => undefined);
  const file = path.join(svc.envDir, 'DB_CONFIG');
  const off = autoInitOffLines((await readFile(file, 'utf8').catch(() => '')) ?? '');
  const cause = off.length
    ? `automatic internal initialisation is off (${off.map((o) => `${file}:${o.line}: "${o.text}"`).join('; ')}` +
      `): delete that line or write "rep_set_config DB_REP_CONF_AUTOINIT on"`
    : `automatic internal initialisation is off, though no line of ${file} turns it off: check how the service ` +
      `configures replication`;
  throw new BdbServiceError(
    'DB_REP_JOIN_FAILURE',
    `the replicant service on ${svc.host} (${svc.envDir}) cannot join its master: DB_REP_JOIN_FAILURE (its ` +
      `log says "${err.failedOn?.line.replace(/^\[[^\]]*\]\[[^\]]*\] /, '').trim()}"); ` +
      (`it cannot catch up from the master's log files, and ${cause}; the replicant was stopped, retry ` +
        `start-replicant after the fix`),
    false,
    err.tail,
  );
}

async function spawnLocal(svc: BdbService, log: string): Promise<number> {
  // A fresh replicant may not have its log directory yet; Berkeley DB does not create it.
  const file = path.join(svc.envDir, 'DB_CONFIG');
  const config = await readFile(file, 'utf8').catch(() => undefined);
  const logDir = logDirOrRefuse(
    config,
    file,
    (problem) => new BdbServiceError('DB_CONFIG_INVALID', `${problem}; the service was not started`, false),
  );
  if (logDir !== undefined) await mkdir(path.resolve(svc.envDir, logDir), { recursive: true });
  const recover = await runTool('recover', ['-e', '-h', svc.envDir], { timeoutMs: 10 * 60_000 });
  if (recover.code !== 0) {
    throw new BdbServiceError(
      'RECOVER_FAILED',
      `db5.3_recover -e -h ${svc.envDir} failed: ${toolErrors(recover) || `exit ${recover.code}`}`,
      false,
    );
  }
  const fd = openSync(log, 'a');
  try {
    const child = spawn(
      bdbTool('replicate'),
      ['-h', path.resolve(svc.envDir), ...(svc.role === 'master' ? ['-M'] : [])],
      {
        detached: true,
        stdio: ['ignore', fd, fd],
      },
    );
    child.unref();
    const pid = child.pid;
    if (pid === undefined)
      throw new BdbServiceError('EXITED', `could not start ${bdbTool('replicate')} for ${svc.envDir}`, false);
    await writeFile(path.join(svc.envDir, PID_FILE), `${pid}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

async function waitReadyByStat(
  svc: BdbService,
  timeoutMs: number,
  running: () => Promise<boolean> = async () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const want = svc.role === 'master' ? 'master' : 'client';
  for (;;) {
    const r = await runTool('stat', ['-r', '-h', svc.envDir], { timeoutMs: 15_000 });
    const role = /Environment configured as a replication (master|client)/.exec(r.output)?.[1];
    if (role === want && (want === 'master' || /Startup complete/.test(r.output))) return;
    if (!(await running())) throw new LogWaitError(`the ${svc.role} service exited`, [`replication ${want}`], [], true);
    if (Date.now() >= deadline) {
      throw new LogWaitError(
        `db5.3_stat -r -h ${svc.envDir} did not say "replication ${want}" within ${Math.round(timeoutMs / 1000)} s`,
        [`replication ${want}`],
        [],
        false,
      );
    }
    await sleep(500);
  }
}

function explainStartFailure(svc: BdbService, err: unknown): unknown {
  if (!(err instanceof LogWaitError)) return err;
  const where = `the ${svc.role} service on ${svc.host} (${svc.envDir})`;
  const tail = err.tail.filter((l) => l.trim() !== '');
  if (tail.some((l) => l.includes('DB_REP_UNAVAIL'))) {
    return new BdbServiceError(
      'DB_REP_UNAVAIL',
      `${where} exited with DB_REP_UNAVAIL: it could not reach its master (${tail
        .filter((l) => /refused|DB_REP_UNAVAIL/.test(l))
        .slice(-2)
        .join(' | ')}); start the master and check the replication port is open, then retry`,
      true,
      tail,
    );
  }
  if (err.exited)
    return new BdbServiceError(
      'EXITED',
      `${where} exited during start-up; last lines of ${messageLogOf(svc)}: ${tail.slice(-3).join(' | ')}`,
      false,
      tail,
    );
  return new BdbServiceError(
    'START_TIMEOUT',
    `${where} is running but not ready: ${err.message}; it may still be copying the database, retry to keep waiting`,
    true,
    tail,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
