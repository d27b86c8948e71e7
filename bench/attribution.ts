// Attributing the lab's operations to the activity that made them: each port call made inside an
// activity notes the activity's key at the ms the lab stamps its start, and the lab's accounting
// is matched back to those notes afterwards.
import { Context } from '@temporalio/activity';
import type { AccountingEntry } from '../activities/lab/index.js';
import type { PortsFor } from '../activities/personalization-upgrade/activities.js';
import { createPortsFor } from '../worker/ports.js';
import { coveredMs } from './stats.js';

/** Port calls seen inside activities: `${op}|${start ms}` → activity key (workflowId|activityId). */
const callOwners = new Map<string, string[]>();

function currentActivityKey(): string | undefined {
  try {
    const info = Context.current().info;
    return `${info.workflowExecution?.workflowId}|${info.activityId}`;
  } catch {
    return undefined;
  }
}

/** Wraps a port so each call notes which activity made it, at the same ms the lab stamps its start. */
function attributed<T extends object>(port: T): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const key = currentActivityKey();
        if (key) {
          const id = `${String(prop)}|${Date.now()}`;
          callOwners.set(id, [...(callOwners.get(id) ?? []), key]);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** The lab's ports, each call attributed to the activity that makes it. */
export function attributedPortsFor(): PortsFor & { close(): Promise<void> } {
  const inner = createPortsFor({ targets: ['lab'] });
  const wrapped = new WeakMap<object, { sql: object; hosts: object }>();
  const portsFor = async (ctx: Parameters<PortsFor>[0]) => {
    const p = await inner(ctx);
    let w = wrapped.get(p);
    if (!w) wrapped.set(p, (w = { sql: attributed(p.sql), hosts: attributed(p.hosts) }));
    return w as Awaited<ReturnType<PortsFor>>;
  };
  return Object.assign(portsFor, { close: () => inner.close() });
}

/**
 * Lab ms per activity key, from the lab's accounting: the time at least one of the activity's
 * operations was in progress (coveredMs); operations no activity claimed are counted.
 */
export function labTimeByActivity(accounting: AccountingEntry[]): {
  byActivity: Map<string, number>;
  unmatched: number;
} {
  const intervals = new Map<string, { start: number; end: number }[]>();
  let unmatched = 0;
  for (const e of accounting) {
    let owners: string[] | undefined;
    for (const d of [0, -1, 1]) {
      owners = callOwners.get(`${e.op}|${e.start + d}`);
      if (owners?.length) break;
    }
    const owner = owners?.shift();
    if (!owner) {
      unmatched += 1;
      continue;
    }
    const list = intervals.get(owner) ?? [];
    list.push({ start: e.start, end: e.end });
    intervals.set(owner, list);
  }
  return { byActivity: new Map([...intervals].map(([owner, list]) => [owner, coveredMs(list)])), unmatched };
}
