// A simulated `proserve <db> -DBService replserv`: starting the source database broker starts the
// OpenEdge Replication server (seed 002). Same state file as the simulated dsrutil.
import { pathToFileURL } from 'node:url';
import { readSimState, simOpenProblem, startServer, updateSimState } from './sim.js';

export async function proserveMain(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [...argv];
  const stateFlag = args.indexOf('--state');
  const stateFile = stateFlag >= 0 ? args.splice(stateFlag, 2)[1] : env.REPLUP_DSRUTIL_STATE;
  const [db] = args;
  if (!stateFile || !db)
    return {
      code: 1,
      stdout: '',
      stderr: 'usage: proserve <db> -DBService replserv (with REPLUP_DSRUTIL_STATE or --state FILE)\n',
    };
  const state = await readSimState(stateFile).catch(() => undefined);
  const dbName = db.replace(/\.db$/, '');
  // The broker opens the database whether replication is enabled or not.
  const problem = simOpenProblem(state, db);
  if (!state || problem?.exit === 2) return { code: 2, stdout: '', stderr: `${problem?.message}\n` };
  if (!args.includes('replserv'))
    return {
      code: 0,
      stdout: `OpenEdge Release: broker for ${dbName} started without the replication server.\n`,
      stderr: '',
    };
  await updateSimState(stateFile, (s, at) => startServer(s, at), now);
  return { code: 0, stdout: `Replication server for ${dbName} started.\n`, stderr: '' };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await proserveMain(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.code;
}
