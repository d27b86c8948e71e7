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

/** `--reason`, as approve, pause, resume and connect-agent take it. */
export const REASON: OptionSpec = ['--reason <text>', 'why (recorded)'];

export interface OperatorCommand<O> {
  /** What --help says the command does. */
  description: string;
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

/** Adds the operator command `name` (`approve [id]`, …) to `program`; its output goes through a Reporter on `io`. */
export function operatorCommand<O>(
  program: Command,
  name: string,
  io: Streams | undefined,
  spec: OperatorCommand<O>,
): Command {
  const cmd = program.command(name).description(spec.description);
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
