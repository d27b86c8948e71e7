// A Temporal namespace of a test's own on the suite's dev server, with replup's search attributes,
// so that "the only running run" and a `replup worker` on task queue `replup` are that test's alone.
import Long from 'long';
import { Connection } from '@temporalio/client';
import { prepareNamespace } from '../../../worker/dev-server.js';

/**
 * Registers the namespace and sets it up with `prepare` (by default as `replup dev-server` does:
 * replup's search attributes), retrying until the new namespace is served.
 */
export async function createNamespace(
  address: string,
  namespace: string,
  prepare: (conn: Connection) => Promise<unknown> = () => prepareNamespace(address, namespace),
): Promise<void> {
  const conn = await Connection.connect({ address });
  try {
    await conn.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) },
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await prepare(conn);
        await conn.workflowService.listWorkflowExecutions({ namespace, query: 'ReplupFleet IS NOT NULL' });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500)); // a new namespace takes a moment to be served
      }
    }
  } finally {
    await conn.close();
  }
}
