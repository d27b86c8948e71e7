// The `replup` command. Each command lives in its own file under cli/commands/ and registers
// itself here; the work is done by plain functions the tests call directly. Importing this module
// runs nothing: cli/bin.mjs (the installed `replup`) calls main(), so how the command was
// invoked (npx, a symlinked bin, a global install) never decides whether it runs.
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { UserError, EXIT } from './errors.js';
import { commands } from './commands/index.js';
import { examplesHelp } from './usage.js';
import { processStreams, Reporter, type Streams } from './lib/reporter.js';

const require = createRequire(import.meta.url);

/** `replup --version`: this package's version and the Temporal TypeScript SDK it runs on. */
export function versionText(): string {
  const own = require('../package.json') as { version: string };
  const sdk = require('@temporalio/worker/package.json') as { version: string };
  return `replup ${own.version} (Temporal TypeScript SDK ${sdk.version})`;
}

/** Every command under `cmd` with its path (`plan validate`, `dev stop`, ...), depth first. */
export function commandPaths(cmd: Command, prefix = ''): { path: string; command: Command }[] {
  return cmd.commands.flatMap((c) => {
    const path = `${prefix}${c.name()}`;
    return [{ path, command: c }, ...commandPaths(c, `${path} `)];
  });
}

/**
 * The whole command tree, without running anything: every command registered, its worked examples
 * (cli/usage.ts) appended to its --help. `setExit` receives an exit code a command sets without
 * throwing; `io` is where the commands write (default the process's streams). Errors: none
 * (parsing happens later).
 */
export function buildProgram(setExit: (code: number) => void = () => {}, io?: Streams): Command {
  const program = new Command('replup')
    .description('Replication upgrade runbooks as durable Temporal workflows')
    .version(versionText(), '-V, --version', 'print the replup and Temporal SDK versions')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => (io ?? processStreams()).stdout.write(s),
      writeErr: (s) => (io ?? processStreams()).stderr.write(s),
    });
  for (const register of commands) register(program, setExit, io);
  for (const { path, command } of commandPaths(program)) {
    const text = examplesHelp(path);
    if (text) command.addHelpText('after', text);
  }
  return program;
}

/**
 * Runs `replup <argv>` (argv without node and script) and resolves with the exit code (README: Exit
 * codes). `io`: where it writes (default the process's stdout and stderr).
 */
export async function main(argv: string[], io?: Streams): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  }, io);
  const report = new Reporter(false, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof UserError) {
      report.error(err.message, err.detail);
      return err.exitCode;
    }
    report.error((err as Error)?.message ?? String(err));
    if (process.env.REPLUP_DEBUG) report.note(`${(err as Error)?.stack}`);
    return EXIT.failed;
  }
}
