// The OpenEdge side effects the openedge-startup workflow's activities call. Everything goes
// through a dsrutil command template (the real `dsrutil`, or the simulated one:
// `tsx activities/openedge-startup/dsrutil.ts --state FILE`), so the workflow cannot tell them apart.
import { spawn } from 'node:child_process';
import { describeCode, phaseOf, type ReplicationPhase } from './codes.js';
import { DsrutilError, type DsrutilFailure } from './errors.js';

export {
  ATTENTION_PHASES,
  DETAIL_CODES,
  describeCode,
  meaningOf,
  phaseOf,
  STATUS_TEXT,
  type DetailCode,
  type ReplicationPhase,
} from './codes.js';
export {
  parseReplicationProperties,
  formatPropertiesErrors,
  agentNameProblem,
  deferMinutesProblem,
} from './properties.js';
export type { ControlAgent, ReplicationProperties, PropertiesIssue, PropertiesResult } from './properties.js';

export interface DsrutilOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The first number dsrutil printed (a status code), if any. */
  code?: number;
}

export { DsrutilError, type DsrutilFailure };

/** Split a command template into argv: whitespace separates, "..." and '...' group. */
export function splitCommand(template: string): string[] {
  const words: string[] = [];
  for (const m of template.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
  return words;
}

/** Run a command template (plus arguments) without a shell; never rejects on a non-zero exit. */
function runTemplate(
  template: string,
  args: string[],
  env: NodeJS.ProcessEnv | undefined,
  timeoutMs: number,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const [file, ...pre] = splitCommand(template);
  if (!file)
    return Promise.reject(
      new DsrutilError(
        'a command template in the plan is empty: set commands.dsrutil and commands.startServer',
        'failed',
        -1,
      ),
    );
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...pre, ...args], {
      env: env ?? process.env,
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (err) =>
      reject(new DsrutilError(`cannot run "${template}": ${err.message}; check the plan's commands`, 'failed', -1)),
    );
    child.on('close', (exitCode) => resolve({ exitCode: exitCode ?? -1, stdout, stderr }));
  });
}

/** Run the dsrutil template with these arguments; exit 2 (cannot open) and 3 (not enabled) throw DsrutilError. */
export async function runDsrutil(
  template: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<DsrutilOutput> {
  const { exitCode, stdout, stderr } = await runTemplate(template, args, opts.env, opts.timeoutMs ?? 60_000);
  const command = [template, ...args].join(' ');
  const said = (stderr || stdout).trim();
  if (exitCode === 2)
    throw new DsrutilError(`${command}: the database cannot be opened (exit 2): ${said}`, 'open-error', 2);
  if (exitCode === 3)
    throw new DsrutilError(
      `${command}: replication is not enabled on the database (exit 3): ${said}`,
      'not-enabled',
      3,
    );
  if (exitCode !== 0) throw new DsrutilError(`${command} failed (exit ${exitCode}): ${said}`, 'failed', exitCode);
  // The first number printed: a detail code is 4 digits, except 0 (Unknown).
  const number = /\b(\d{1,4})\b/.exec(stdout)?.[1];
  return { exitCode, stdout, stderr, ...(number !== undefined && { code: Number(number) }) };
}

export interface OpenEdgeTarget {
  /** The dsrutil command template, e.g. "dsrutil" or "tsx activities/openedge-startup/dsrutil.ts --state FILE". */
  dsrutil: string;
  /** The source database. */
  database: string;
  env?: NodeJS.ProcessEnv;
}

export interface StatusReading {
  code: number;
  phase: ReplicationPhase;
  /** e.g. "6021 Normal Processing" */
  text: string;
}

async function detailStatus(target: OpenEdgeTarget, agent?: string): Promise<StatusReading> {
  const out = await runDsrutil(
    target.dsrutil,
    [target.database, '-C', 'status', ...(agent ? [agent] : []), '-detail'],
    { env: target.env },
  );
  if (out.code === undefined)
    throw new DsrutilError(
      `dsrutil ${target.database} -C status${agent ? ` ${agent}` : ''} -detail printed no status code: "` +
        `${out.stdout.trim()}"`,
      'failed',
      0,
    );
  return { code: out.code, phase: phaseOf(out.code), text: describeCode(out.code) };
}

/** The replication server's status (`dsrutil <db> -C status -detail`). */
export function serverStatus(target: OpenEdgeTarget): Promise<StatusReading> {
  return detailStatus(target);
}

/** One agent's status, seen from the source (`dsrutil <db> -C status AGENT -detail`). */
export async function agentStatus(target: OpenEdgeTarget, agent: string): Promise<StatusReading & { agent: string }> {
  return { agent, ...(await detailStatus(target, agent)) };
}

/**
 * `dsrutil <db> -C connectagent AGENT|ALL`: a connection attempt now. Safe to repeat: connected agents are left alone.
 */
export async function connectAgent(target: OpenEdgeTarget, agent: string): Promise<{ message: string }> {
  const out = await runDsrutil(target.dsrutil, [target.database, '-C', 'connectagent', agent], { env: target.env });
  return { message: out.stdout.trim() };
}

/**
 * Start the replication server with the plan's start command template ({db} is the source
 * database), e.g. "proserve {db} -DBService replserv". Observes first: a server that is not
 * ended (anything but 6060) is left alone.
 */
export async function startServer(
  target: OpenEdgeTarget,
  startCommand: string,
): Promise<{ started: boolean; status: StatusReading }> {
  const before = await serverStatus(target);
  if (before.code !== 6060) return { started: false, status: before };
  const command = startCommand.replaceAll('{db}', target.database);
  const result = await runTemplate(command, [], target.env, 5 * 60_000);
  if (result.exitCode !== 0) {
    throw new DsrutilError(
      `starting the replication server with "${command}" failed (exit ${result.exitCode}): ` +
        `${(result.stderr || result.stdout).trim()}`,
      'failed',
      result.exitCode,
    );
  }
  return { started: true, status: await serverStatus(target) };
}
