// `replup dev [stop]`: the local Temporal dev server the runbooks run on.
import type { Register } from './index.js';
import { ensureDevServer, stopDevServer, type EnsureDevResult } from '../../worker/dev-server.js';
import { DEFAULT_ADDRESS } from '../../worker/connection.js';
import { Reporter } from '../lib/reporter.js';
import { wholeNumber } from '../lib/runs.js';

export const registerDev: Register = (program, _setExit, io) => {
  const dev = program
    .command('dev')
    .description('Start the local Temporal dev server (SQLite file, Web UI), or reuse the one running')
    .option('--port <port>', 'frontend gRPC port (default 7233)', wholeNumber('--port', 1))
    .option('--ui-port <port>', 'Web UI port (default: --port + 1000)', wholeNumber('--ui-port', 1))
    .option(
      '--db-file <path>',
      'SQLite file holding workflow state (default .replup/temporal.db; .replup/temporal-PORT.db on another port)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { port?: number; uiPort?: number; dbFile?: string; json?: boolean }) => {
      const report = new Reporter(opts.json, io);
      const result = await ensureDevServer({
        port: opts.port,
        uiPort: opts.uiPort,
        dbFile: opts.dbFile,
        log: (line) => report.note(line),
      });
      report.result(result, () => devServerText(result));
    });
  dev
    .command('stop')
    .description('Stop the dev server that `replup dev` started')
    .action(async () => {
      const rec = await stopDevServer();
      new Reporter(false, io).text(
        rec
          ? `Stopped the dev server (pid ${rec.pid}); its data stays in ${rec.dbFile}.\n`
          : 'No dev server started by replup is running.\n',
      );
    });
};

/**
 * `replup dev`'s text: the server started or reused, its Web UI; on another address than the default,
 * the `export TEMPORAL_ADDRESS=…` line that points the other commands at it; and how to stop it, only
 * when this folder started it (`replup dev stop` stops nothing else).
 */
export function devServerText(result: EnsureDevResult): string {
  const how =
    result.status === 'reused'
      ? `A Temporal server already answers at ${result.address}: reusing it.\n`
      : `Started the Temporal dev server (pid ${result.pid}, ${result.cli?.version}, ` +
        `from ${result.cli?.source}).\n` +
        `  frontend  ${result.address}\n  data      ${result.dbFile}\n`;
  const point =
    result.address === DEFAULT_ADDRESS
      ? ''
      : `Point the other replup commands (worker, start, status, …) at it in your shell:\n` +
        `  export TEMPORAL_ADDRESS=${result.address}\n`;
  const stop = result.startedHere
    ? 'Stop it with: replup dev stop\n'
    : 'It was started elsewhere (not by replup dev in this folder): stop it where it was started.\n';
  return `${how}  Web UI    ${result.uiUrl}\n${point}${stop}`;
}
