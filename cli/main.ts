// The `replup` command. Each command lives in its own file under cli/commands/ and registers
// itself here; the work is done by plain functions the tests call directly.
import { Command, CommanderError } from 'commander';
import { UserError, EXIT } from './errors.js';
import { commands } from './commands/index.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('replup')
    .description('Replication upgrade runbooks as durable Temporal workflows')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let exitCode: number = EXIT.ok;
  const setExit = (code: number) => {
    exitCode = code;
  };
  for (const register of commands) register(program, setExit);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof UserError) {
      process.stderr.write(`replup: ${err.message}\n`);
      for (const line of err.detail) process.stderr.write(`  ${line}\n`);
      return err.exitCode;
    }
    process.stderr.write(`replup: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.REPLUP_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    return EXIT.failed;
  }
}

const isEntry = process.argv[1] && /cli[\\/](main\.ts|bin\.mjs)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`replup: ${String(err)}\n`);
      process.exit(EXIT.failed);
    },
  );
}
