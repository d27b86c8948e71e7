// Pure arithmetic of the benchmarks: summaries of repeated runs, the critical path of a run from
// its activities and the lab's accounting, and the fewest sync rounds the lab's changes allow.
// No I/O here, so each rule is tested on its own (test/unit/bench/).

/** Median, min and max of repeated measurements. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new Error('summarize: no measurements (the scenario did not run)');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** `1.23 (1.10–1.40)` with the given number of decimals. */
export function formatSummary(s: Summary, decimals = 0, unit = ''): string {
  const f = (x: number) => `${x.toFixed(decimals)}${unit}`;
  return s.n === 1 ? `${f(s.median)} (n=1)` : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** One activity execution as the history records it, with the lab time of its operations. */
export interface ActivitySpan {
  key: string;
  /** When the workflow asked for it (ms since the epoch). */
  scheduled: number;
  /** When its result reached the server. */
  completed: number;
  /** The time its lab operations cover (coveredMs: their sum when one follows the other). */
  labMs: number;
}

/**
 * The critical path: the longest chain of activities where each one was asked for only after the
 * previous one had completed, weighted by the lab time of each. That is the wall time the run
 * would take if orchestration cost nothing and every parallel branch had its own server. With
 * maxParallel = N every call of a fan-out is scheduled at once, so "scheduled after completed"
 * is the workflow's own ordering, not an artefact of queueing.
 */
/**
 * Time during which at least one of these intervals was in progress: an activity's lab time when
 * it makes several operations at once (verify-versions reads 8 at a time), their sum when it makes
 * them one after the other.
 */
export function coveredMs(intervals: { start: number; end: number }[]): number {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  let total = 0;
  let from = -Infinity;
  let to = -Infinity;
  for (const { start, end } of sorted) {
    if (start > to) {
      if (to > from) total += to - from;
      from = start;
      to = end;
    } else if (end > to) to = end;
  }
  if (to > from) total += to - from;
  return total;
}

export function criticalPath(spans: ActivitySpan[]): { ms: number; chain: string[] } {
  const byCompleted = [...spans].sort((a, b) => a.completed - b.completed);
  const byScheduled = [...spans].sort((a, b) => a.scheduled - b.scheduled);
  const best = new Map<string, { ms: number; prev?: string }>();
  // Sweep in scheduling order; `done` is the best chain among activities completed so far.
  let next = 0;
  let done: { ms: number; key?: string } = { ms: 0 };
  for (const s of byScheduled) {
    while (next < byCompleted.length && byCompleted[next]!.completed <= s.scheduled) {
      const c = byCompleted[next++]!;
      const b = best.get(c.key);
      if (b && b.ms > done.ms) done = { ms: b.ms, key: c.key };
    }
    best.set(s.key, { ms: done.ms + s.labMs, prev: done.key });
  }
  let end: string | undefined;
  let ms = 0;
  for (const [key, b] of best) {
    if (b.ms > ms) {
      ms = b.ms;
      end = key;
    }
  }
  const chain: string[] = [];
  for (let k = end; k !== undefined; k = best.get(k)?.prev) chain.unshift(k);
  return { ms, chain };
}

/** One merge agent session of the first sync round, as the lab recorded it. */
export interface FirstRoundSession {
  publication: string;
  /** Rows it uploaded (inserts + updates + deletes). */
  uploaded: number;
  /** Rows it downloaded. */
  downloaded: number;
}

/**
 * The fewest rounds sync-until-quiet can take on what the lab had pending, whatever the order of
 * the merges: nothing pending → 0 moving rounds; changes at most one subscriber uploads (per
 * publication) reach every other copy in one round if that subscriber merges first; once two
 * subscribers upload, whichever merges first only gets the other's rows in a second round.
 * Then `quietRounds` rounds must move nothing. With no users left there are no new writes.
 */
export function minimumSyncRounds(
  firstRound: FirstRoundSession[],
  quietRounds: number,
): { moving: number; minimum: number } {
  const byPublication = new Map<string, FirstRoundSession[]>();
  for (const s of firstRound) byPublication.set(s.publication, [...(byPublication.get(s.publication) ?? []), s]);
  let moving = 0;
  for (const sessions of byPublication.values()) {
    const uploaders = sessions.filter((s) => s.uploaded > 0).length;
    const moved = sessions.some((s) => s.uploaded > 0 || s.downloaded > 0);
    moving = Math.max(moving, !moved ? 0 : uploaders <= 1 ? 1 : 2);
  }
  return { moving, minimum: moving + quietRounds };
}
