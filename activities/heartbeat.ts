// Every long activity heartbeats while it works, so a killed worker is noticed within the
// heartbeat timeout and the activity runs again elsewhere; and its errors leave classified, so the
// retry policy can tell transient from fatal.
import { Context } from '@temporalio/activity';

export async function heartbeating<T>(
  work: () => Promise<T>,
  classify: (err: unknown) => unknown,
  detail?: string,
): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined; // called outside a worker (a benchmark's plain script): nothing to heartbeat to
  }
  const timer = ctx ? setInterval(() => ctx.heartbeat(detail), 2_000) : undefined;
  try {
    return await work();
  } catch (err) {
    throw classify(err);
  } finally {
    if (timer) clearInterval(timer);
  }
}
