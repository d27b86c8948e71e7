// What every bench scenario gets from the runner, and the shape of a scenario: a name, the key
// its figures have in results.json, and a function from the context to its typed result.
import type { Client } from '@temporalio/client';
import type { BenchConfig, ScenarioName } from '../config.js';
import type { Convergence } from '../workflow-run.js';

export interface ScenarioContext {
  client: Client;
  /** The task queue of the bench's in-process worker. */
  taskQueue: string;
  /** The Temporal server's address (the resume scenario starts worker processes of its own). */
  address: string;
  /** The dev server's process id, for its CPU time; undefined with TEMPORAL_ADDRESS. */
  serverPid: number | undefined;
  config: BenchConfig;
  /** Every workflow run's convergence is added here (the runner summarises them). */
  convergence: Convergence[];
  log(line: string): void;
}

/** One scenario; `run` may read the results of the scenarios before it in this run (scenario() makes one). */
export interface Scenario<R, Before = unknown> {
  name: ScenarioName;
  /** The key of its figures in results.json. */
  key: string;
  /** The progress line's title: `2/5 fan-out`. */
  title: string;
  run(ctx: ScenarioContext, before: Before): Promise<R>;
}

/** A scenario from its name, results.json key, progress title and measuring function. */
export function scenario<R, Before = unknown>(
  name: ScenarioName,
  key: string,
  title: string,
  run: (ctx: ScenarioContext, before: Before) => Promise<R>,
): Scenario<R, Before> {
  return { name, key, title, run };
}
