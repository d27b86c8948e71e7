// How a workflow test reads where a run stopped: ended, or parked waiting for a person.
import type { Client } from '@temporalio/client';
import type { Progress, RunResult } from '../../workflows/messages.js';
import { waitFor } from './harness.js';

/** The run ended (completed, aborted, failed) or waits for an operator or an approval. */
export const settled = (p: Progress): boolean =>
  ['completed', 'aborted', 'failed'].includes(p.status) || p.status.startsWith('awaiting-');

export const stepOf = (p: Progress, id: string) => p.steps.find((s) => s.id === id)!;

/** The run's result; a run that parks instead fails the test at once, saying where and why. */
export async function resultOf(client: Client, workflowId: string): Promise<RunResult> {
  const p = await waitFor(client, workflowId, settled);
  const parked = p.steps.find((s) => s.status.startsWith('awaiting-'));
  if (parked) throw new Error(`the run parked at ${parked.id} (${parked.status}): ${parked.lastError ?? ''}`);
  return client.workflow.getHandle(workflowId).result() as Promise<RunResult>;
}
