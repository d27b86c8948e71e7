// `replup plan show`'s target line, worded the same for every SQL Server runbook: the lab with its
// state file, or the plan's kind `sqlserver` (the servers are listed on the lines that follow).

/** `lab, state /abs/path.json` for a lab target; `sqlserver` otherwise. */
export const targetCell = (target: { kind: string; state?: string }): string =>
  target.kind === 'lab' ? `lab, state ${target.state}` : 'sqlserver';
