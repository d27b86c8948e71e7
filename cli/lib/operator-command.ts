// The commands that send a run an operator's message (approve, confirm, retry, skip, abort, pause,
// resume, connect-agent) share their shape: `<name> [id]`, their own options, `--actor`, `--json`;
// connect, find the run, send, then print one line for people or the run's new progress as JSON.
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { connectClient } from '../../worker/connection.js';
import type { Progress } from '../../workflows/messages.js';
import { defaultActor, resolveRunId } from './runs.js';
import { Reporter, type Streams } from './reporter.js';

/** The options every operator command has, besides its own. */
export interface OperatorOptions {
  actor: string;
  json?: boolean;
}

/** One option of the command's own: flags, description, and `required` or its default value. */
export type OptionSpec = [flags: string, description: string, how?: 'required' | { default: string }];

export interface OperatorCommand<O> {
  /** `approve [id]`, `retry [id]`, …, and its description. */
  command: [name: string, description: string];
  /** The command's own options, in --help order, before `--actor` and `--json`. */
  options: OptionSpec[];
  /** How `--actor` is described, e.g. 'who approves (recorded)'. */
  actor: string;
  /**
   * Sends the message to run `runId`. Resolves with the run's new progress (the --json document)
   * and the text for people, ending in a newline. Errors: UserError with what to do instead.
   */
  send: (
    client: Client,
    runId: string,
    opts: O & OperatorOptions,
  ) => Promise<{ progress: Progress; text: () => string }>;
}

/** Adds one operator command to `program`; its output goes through a Reporter on `io`. */
export function operatorCommand<O>(program: Command, spec: OperatorCommand<O>, io?: Streams): Command {
  const cmd = program.command(spec.command[0]).description(spec.command[1]);
  for (const [flags, description, how] of spec.options) {
    if (how === 'required') cmd.requiredOption(flags, description);
    else cmd.option(flags, description, how?.default);
  }
  return cmd
    .option('--actor <name>', spec.actor, defaultActor())
    .option('--json', 'print the new progress state as JSON')
    .action(async (id: string | undefined, opts: O & OperatorOptions) => {
      const client = await connectClient();
      const runId = await resolveRunId(client, id);
      const { progress, text } = await spec.send(client, runId, opts);
      new Reporter(opts.json, io).result(progress, text);
    });
}
