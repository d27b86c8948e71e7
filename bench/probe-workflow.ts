// The floor under replup's per-activity overhead: a workflow that only calls a no-op activity n
// times in a row. bench/profile-overhead.ts compares the runbook against it on the same server.
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1 minute' });

export async function sequentialNoops(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await noop();
}
