// A simulated `dsrutil` (OpenEdge Replication's utility) for machines without OpenEdge, backed
// by the state file of ./sim.ts (REPLUP_DSRUTIL_STATE or --state FILE). Run with tsx:
//   tsx activities/openedge-startup/dsrutil.ts <db> -C status [AGENT] [-detail|verbose]
//   tsx activities/openedge-startup/dsrutil.ts <db> -C connectagent <AGENT|ALL>
//   tsx activities/openedge-startup/dsrutil.ts <db> -C terminate server
// `status` prints the group code (1100/1101/1199 for the server, 2100/2101/2199 for an agent)
// and `-detail` the detail code (6001-6060 server, 1001-1063/3048-3049 agent); `verbose` adds the
// description. Exit codes: 0 ok, 1 usage, 2 the database cannot be opened, 3 replication is not
// enabled. (inferred) the exact wording of the non-status messages.
import { pathToFileURL } from 'node:url';
import { DETAIL_CODES } from './codes.js';
import {
  agentCode,
  connectAgent,
  evaluate,
  readSimState,
  serverCode,
  simOpenProblem,
  STATUS_TEXT,
  terminateServer,
  writeSimState,
} from './sim.js';

export const DSRUTIL_EXIT = { ok: 0, usage: 1, openError: 2, notEnabled: 3 } as const;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Group code: the class of the detail code (100 connecting ... 199 inactive, 255 unknown), prefixed 1 (server) or 2
 * (control agent).
 */
export function groupCode(detail: number, prefix: 1 | 2): number {
  return prefix * 1000 + (DETAIL_CODES[detail]?.group ?? 255);
}

const USAGE =
  'usage: dsrutil <db> -C status [AGENT] [-detail|verbose] | -C connectagent <AGENT|ALL> | -C terminate server';

export async function dsrutilMain(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): Promise<CliResult> {
  const args = [...argv];
  const stateFlag = args.indexOf('--state');
  const stateFile = stateFlag >= 0 ? args.splice(stateFlag, 2)[1] : env.REPLUP_DSRUTIL_STATE;
  const [db, dashC, command, ...rest] = args;
  if (!stateFile)
    return {
      code: DSRUTIL_EXIT.usage,
      stdout: '',
      stderr: 'simulated dsrutil: set REPLUP_DSRUTIL_STATE or pass --state FILE\n',
    };
  if (!db || dashC !== '-C' || !command) return { code: DSRUTIL_EXIT.usage, stdout: '', stderr: `${USAGE}\n` };

  const state = await readSimState(stateFile).catch(() => undefined);
  const dbName = db.replace(/\.db$/, '');
  const problem = simOpenProblem(state, db);
  if (problem || !state)
    return { code: problem?.exit ?? DSRUTIL_EXIT.openError, stdout: '', stderr: `${problem?.message}\n` };
  evaluate(state, now);

  switch (command.toLowerCase()) {
    case 'status': {
      const detail = rest.includes('-detail');
      const verbose = rest.includes('verbose');
      const agent = rest.find((r) => r !== '-detail' && r !== 'verbose');
      const code = agent === undefined ? serverCode(state, now) : agentCode(state, agent, now);
      if (code === undefined)
        return {
          code: DSRUTIL_EXIT.usage,
          stdout: '',
          stderr: `Agent ${agent} is not a control agent of ${dbName}.\n`,
        };
      const shown = detail || verbose ? code : groupCode(code, agent === undefined ? 1 : 2);
      await writeSimState(stateFile, state);
      return {
        code: DSRUTIL_EXIT.ok,
        stdout: verbose ? `${shown} ${STATUS_TEXT[shown] ?? ''}\n` : `${shown}\n`,
        stderr: '',
      };
    }
    case 'connectagent': {
      const which = rest[0];
      if (!which) return { code: DSRUTIL_EXIT.usage, stdout: '', stderr: `${USAGE}\n` };
      if (which.toUpperCase() !== 'ALL' && !state.agents.some((a) => a.name === which)) {
        return {
          code: DSRUTIL_EXIT.usage,
          stdout: '',
          stderr: `Agent ${which} is not a control agent of ${dbName}.\n`,
        };
      }
      if (serverCode(state, now) === 6060)
        return { code: DSRUTIL_EXIT.ok, stdout: `The replication server for ${dbName} is not running.\n`, stderr: '' };
      connectAgent(state, which, now);
      await writeSimState(stateFile, state);
      return {
        code: DSRUTIL_EXIT.ok,
        stdout: `Connect agent request for ${which} sent to the replication server.\n`,
        stderr: '',
      };
    }
    case 'terminate': {
      if (rest[0]?.toLowerCase() !== 'server') return { code: DSRUTIL_EXIT.usage, stdout: '', stderr: `${USAGE}\n` };
      terminateServer(state, now);
      await writeSimState(stateFile, state);
      return { code: DSRUTIL_EXIT.ok, stdout: `Replication server for ${dbName} terminated.\n`, stderr: '' };
    }
    default:
      return { code: DSRUTIL_EXIT.usage, stdout: '', stderr: `unknown dsrutil command "${command}"\n${USAGE}\n` };
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await dsrutilMain(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.code;
}
