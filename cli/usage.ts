// What an operator types, in one place: the worked examples every command's --help ends with, and
// the README's command table (test/unit/cli/usage.test.ts checks that the README's table is
// exactly renderCommandTable(), that every command has one to three examples, and that every
// example parses against the real command definitions).

/** One worked example: the command line (as typed, starting with `replup`) and what it does. */
export interface Example {
  line: string;
  says: string;
}

/** One row of the README's command table: the synopsis (Markdown), what it does, the commands it covers. */
export interface TableRow {
  synopsis: string;
  summary: string;
  /** Command paths as `replup <path>` names them, e.g. `plan validate`, `lab init`. */
  commands: string[];
}

/**
 * Worked examples by command path (`plan validate`, `lab init`, `dev stop`, ...; groups too), as
 * the --help shows them: a command path, each example's line (two spaces in, starting with
 * `replup`), what it does (four spaces in; a longer text continues on the next such line).
 */
const EXAMPLES_TEXT = `
plan
  replup plan validate plan.yaml
    every problem of the plan at once
  replup plan show plan.yaml --sql
    the steps that apply, and the statements each sends
plan new
  replup plan new plan.yaml
    a plan to start from: examples/lab-small.yaml with its paths rewritten for this folder, the approval gate on
  replup plan new fleet.yaml --from sqlserver
    the real-fleet example, to fill in
plan validate
  replup plan validate plan.yaml
    every problem at once, file:line:column; exit 1 if any
  replup plan validate plan.yaml --json
    the same problems as JSON, for a CI gate
plan show
  replup plan show plan.yaml
    the steps that apply and why; the fleet
  replup plan show plan.yaml --sql
    every statement each step would send, without connecting
start
  replup start plan.yaml
    validate, launch; prints the workflow id and its Web UI link
  replup start plan.yaml --wait
    and follow it: exit 0 completed, 1 failed, 3 waiting for you
  replup start plan.yaml --at 2026-12-05T22:00+01:00 --not-after 2026-12-06T04:00+01:00
    start when the maintenance window opens; nothing from remove-replication on begins after it closes
status
  replup status
    the step table of the only running upgrade
  replup status 'upgrade:SQLPUB01/PersonalizationServer' --json
    one run, for scripts
watch
  replup watch
    live step table; exits 3 when a person is needed, printing the command to answer
  replup watch 'upgrade:SQLPUB01/PersonalizationServer' --interval 2000
    one run, redrawn every 2 s
retry
  replup retry --step sync-until-quiet --reason "conflicts resolved by hand"
    run the parked step again
skip
  replup skip --step verify-replication --reason "canary table dropped by the vendor"
    go on without the parked step (refused where it would risk data)
abort
  replup abort --step sync-until-quiet --reason "change window closed"
    end the run, undoing what the step table says
  replup abort --reason "change window closed"
    wherever it is: running or paused, it stops after the activity running now
approve
  replup approve --gate remove-replication --reason "change 4711 approved"
    let the run past its approval gate
confirm
  replup confirm --step upgrade --note "setup run on every server"
    a manual upgrade (hosts.upgrade: manual) is done
connect-agent
  replup connect-agent --agent ALL --reason "network back"
    OpenEdge: try every agent now
  replup connect-agent --agent agent1
    just one agent
pause
  replup pause --reason "backup window"
    hold the run after the current step
resume
  replup resume --reason "backup done"
    go on
list
  replup list
    every run the search attributes know
  replup list --status awaiting-operator --json
    the runs waiting for a person, for scripts
report
  replup report 'upgrade:SQLPUB01/PersonalizationServer'
    the audit, rebuilt from the workflow history
  replup report 'upgrade:SQLPUB01/PersonalizationServer' --md --out reports
    written to reports/ as Markdown
  replup report 'upgrade:sqlpub01/personalizationserver' --run 01a2016f-62f5-74c3-910f-c62ea188b03d
    an earlier run of the fleet (run ids in replup list)
worker
  replup worker
    serve every runbook on task queue replup
  replup worker --concurrency 200
    for a 200-way fan-out
  replup worker --metrics 127.0.0.1:9464
    Prometheus metrics at http://127.0.0.1:9464/metrics: the Temporal SDK's and replup's
lab
  replup lab init plan.yaml --conflicts 2
    a simulated fleet with two conflicting rows
  replup lab check plan.yaml
    its invariants after a run
lab init
  replup lab init examples/lab-small.yaml
    create the lab the plan names
  replup lab init plan.yaml --rows 500 --seed 7 --conflicts 2 --force
    a bigger one with conflicts, replacing the old
lab show
  replup lab show plan.yaml
    print the lab: databases, rows, subscriptions, services
lab check
  replup lab check plan.yaml --json
    its invariants; exit 1 when one fails
lab resolve-conflicts
  replup lab resolve-conflicts plan.yaml
    resolve the conflicting rows (also while a worker holds the lab)
lab upgrade
  replup lab upgrade plan.yaml
    a lab plan with hosts.upgrade: manual: do the upgrade by hand, then replup confirm --step upgrade
dev
  replup dev
    a local Temporal dev server, Web UI on http://localhost:8233
  replup dev --port 7234
    a second one beside it: Web UI on :8234, state in .replup/temporal-7234.db
dev stop
  replup dev stop
    stop it; its workflows stay in the SQLite file
demo
  replup demo
    dev server, a fresh lab, a worker, an upgrade, the invariants, the report
  replup demo --runbook add-subscriber
    another runbook with its example plan on its own fresh lab, its gates approved by the demo
  replup demo --plan night.yaml --metrics 127.0.0.1:9464
    another lab upgrade plan (its lab re-created), e.g. with notify:; the worker's metrics at
    http://127.0.0.1:9464/metrics
`;

/** EXAMPLES_TEXT read into examples by command path. Errors: a line that fits none of its three forms. */
export function parseExamples(text: string): Record<string, Example[]> {
  const out: Record<string, Example[]> = {};
  let list: Example[] | undefined;
  for (const row of text.split('\n')) {
    if (row.trim() === '') continue;
    const last = list?.at(-1);
    if (!row.startsWith(' ')) out[row] = list = [];
    else if (row.startsWith('  replup ') && list) list.push({ line: row.trim(), says: '' });
    else if (row.startsWith('    ') && last) last.says = `${last.says} ${row.trim()}`.trim();
    else throw new Error(`cli/usage.ts examples: "${row}" is neither a command path, an example nor what it does`);
  }
  return out;
}

export const EXAMPLES: Record<string, Example[]> = parseExamples(EXAMPLES_TEXT);

/** The README's "All commands" table, in order. */
export const COMMAND_TABLE: TableRow[] = [
  {
    synopsis: '`plan new <file> [--from EXAMPLE] [--force]`',
    summary:
      "a plan to start from: an example (`lab-small` by default) with its paths rewritten for the new file's " +
      'folder and the approval gate on',
    commands: ['plan new'],
  },
  {
    synopsis: '`plan validate <file> [--json]`',
    summary: 'every problem of a plan at once, `file:line:column path: message`',
    commands: ['plan', 'plan validate'],
  },
  {
    synopsis: '`plan show <file> [--json] [--sql]`',
    summary: 'the steps that apply and why, the fleet; `--sql` the statements each step sends',
    commands: ['plan show'],
  },
  {
    synopsis: '`start <plan> [--wait] [--json] [--at T] [--not-after T]`',
    summary:
      "validate, then launch the plan's runbook; prints the workflow id and the Web UI link of the server it " +
      'is connected to (`REPLUP_UI_URL` overrides); warns when the namespace keeps history less than 30 ' +
      'days; `--at`/`--not-after`: the maintenance window',
    commands: ['start'],
  },
  {
    synopsis: '`status [id] [--json]`, `watch [id]`',
    summary:
      'where a run is; `watch` redraws live and exits 0, 1 or 3 (3 also when paused); when no worker answers ' +
      '(none serves task queue `replup`), `status` shows what the run last published, labelled so (`--json`: ' +
      '`lastPublished: true`, `workerAnswered: false`), and exits 0, 1 or 3 by its state, and `watch` keeps ' +
      'watching until a worker answers or the run ends',
    commands: ['status', 'watch'],
  },
  {
    synopsis: '`retry`, `skip [id] --step S --reason R`',
    summary:
      "an operator's decision on a parked step (skip only where the step table allows it; recorded with `--actor`)",
    commands: ['retry', 'skip'],
  },
  {
    synopsis: '`abort [id] [--step S] --reason R`',
    summary:
      'end the run: at a waiting step at once; running or paused, after the activity in flight; runs the ' +
      'cleanup that is safe there (recorded)',
    commands: ['abort'],
  },
  {
    synopsis: '`approve [id] --gate G --reason R`, `confirm [id] --step S`',
    summary: 'approval gates, manual steps',
    commands: ['approve', 'confirm'],
  },
  {
    synopsis: '`pause`, `resume [id]`',
    summary: 'hold the run between steps (`watch` exits 3, printing `replup resume` and `abort`)',
    commands: ['pause', 'resume'],
  },
  {
    synopsis: '`connect-agent [id] --agent NAME\\|ALL`',
    summary: 'OpenEdge: try the agents now instead of at the next deferred retry',
    commands: ['connect-agent'],
  },
  {
    synopsis: '`list [--status S] [--json]`',
    summary:
      "runs with their run ids; Temporal's own status when a run ended outside replup (`terminated`, " +
      '`timed-out`); `--status awaiting-operator`: every run that needs a person (parked step, gate, manual ' +
      'step, paused)',
    commands: ['list'],
  },
  {
    synopsis: '`report <id> [--run R] [--json\\|--md] [--out DIR]`',
    summary:
      'the run report rebuilt from the history; `--run` an earlier run of the fleet (run ids in `list`); the ' +
      'workflow also writes `reports/<id>.<run id>.md` and `.json` when it ends (`REPLUP_REPORTS_DIR` moves ' +
      'them)',
    commands: ['report'],
  },
  {
    synopsis: '`worker [--concurrency N] [--metrics HOST:PORT]`',
    summary:
      "serves every runbook on task queue `replup`; with `--metrics`, Prometheus metrics (the Temporal SDK's " +
      "and replup's) at `/metrics`",
    commands: ['worker'],
  },
  { synopsis: '`dev [stop]`', summary: 'the local Temporal dev server', commands: ['dev', 'dev stop'] },
  {
    synopsis:
      '`lab init <plan> [--rows N] [--seed S] [--conflicts N]`, `lab show`, `lab check [--json]`, `lab ' +
      'resolve-conflicts`, `lab upgrade`',
    summary:
      'the simulated fleet: create it, print it, check what its run promised (a completed upgrade, or an ' +
      'abort before or after removal; exit 1 when one fails), resolve its conflicting rows, do a ' +
      '`hosts.upgrade: manual` upgrade by hand (both also while a worker holds it)',
    commands: ['lab', 'lab init', 'lab show', 'lab check', 'lab resolve-conflicts', 'lab upgrade'],
  },
  {
    synopsis: '`demo [--port P] [--ui-port U] [--plan FILE] [--runbook NAME] [--metrics HOST:PORT]`',
    summary:
      '`npm run demo`: dev server (on 7233/8233 unless `--port`/`--ui-port` or `TEMPORAL_ADDRESS`), a fresh ' +
      'lab, a worker, an upgrade, the invariants, the report; `--plan`: another lab upgrade plan (its lab ' +
      "re-created), `--metrics`: the worker's metrics as `worker --metrics`; `--runbook`: `setup-replication`, " +
      '`add-subscriber`, `remove-subscriber` or `agent-schedules` with its example plan on its own fresh lab, its ' +
      'gates approved by the demo',
    commands: ['demo'],
  },
];

/** The README's command table as Markdown (header included), one line per row, ending in a newline. */
export function renderCommandTable(rows: TableRow[] = COMMAND_TABLE): string {
  return (
    ['| command | what it does |', '|---|---|', ...rows.map((r) => `| ${r.synopsis} | ${r.summary} |`)].join('\n') +
    '\n'
  );
}

/** The "Examples:" block appended to a command's --help; '' when it has none. */
export function examplesHelp(path: string): string {
  const examples = EXAMPLES[path] ?? [];
  if (examples.length === 0) return '';
  const width = Math.max(...examples.map((e) => e.line.length));
  return `\nExamples:\n${examples.map((e) => `  ${e.line.padEnd(width)}   # ${e.says}`).join('\n')}\n`;
}
