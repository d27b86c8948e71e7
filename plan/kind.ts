// What a runbook's plan kind provides to the loader and to `replup plan validate|show`.
import type { PathSegment, SourceResult } from './source.js';

/** A step as `plan show` prints it: every runbook's planned steps have this shape. */
export interface StepView {
  id: string;
  applies: boolean;
  reason: string;
}

/** A table for `plan show`: the first row of `rows` lines up under `columns`. */
export interface FleetTable {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface PlanKind<P> {
  /** The value of the plan file's `runbook` field. */
  runbook: string;
  /** One line saying what the runbook does, for listings and errors. */
  title: string;
  /**
   * Validates and normalizes plan text; `file` is the plan's absolute path (relative paths resolve against its folder).
   */
  parse(text: string, file: string): SourceResult<P>;
  steps(plan: P): StepView[];
  /** Header lines (name, versions, target) and tables of the fleet for `plan show`. */
  describe(plan: P): { summary: string[]; tables: FleetTable[] };
  /**
   * Problems with folders the plan names that this machine can see (a plan read from a file):
   * `raw` is the plan as written, so a kind can tell a relative path (resolved beside the plan
   * file, on this machine) from one that may live on another.
   */
  checkOnDisk?(raw: Record<string, unknown>, plan: P): { path: PathSegment[]; message: string }[];
}
