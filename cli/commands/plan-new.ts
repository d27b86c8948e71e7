// `replup plan new <file> [--from EXAMPLE]`: a plan to start from, written where the user wants it.
// A plain copy of examples/lab-small.yaml breaks away from examples/: its relative paths (the
// scripts folder, the lab's state file) are relative to the example's folder. This writes the
// example with those paths rewritten for the new place, the lab kept beside the plan, and the
// approval gate of a real plan (the examples turn it off so the demo runs unattended).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import { UserError, EXIT } from '../errors.js';
import type { CommandOutput } from '../lib/reporter.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

/** The examples `--from` takes: examples/<name>.yaml. */
export function exampleNames(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** `to` as the plan at `planDir` should name it: relative when it lies under that folder, else absolute. */
function pathFrom(planDir: string, to: string): string {
  const rel = relative(planDir, to);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : to;
}

function mapAt(doc: Document, key: string): YAMLMap | undefined {
  const node = doc.get(key, true);
  return isMap(node) ? node : undefined;
}

export interface PlanNewOptions {
  from?: string;
  force?: boolean;
}

export function planNew(file: string, options: PlanNewOptions = {}): CommandOutput {
  const from = options.from ?? 'lab-small';
  const names = exampleNames();
  if (!names.includes(from))
    throw new UserError(
      `--from ${from}: there is no example of that name`,
      [`use one of: ${names.join(', ')}`],
      EXIT.usage,
    );
  const out = resolve(file);
  if (existsSync(out) && !options.force)
    throw new UserError(`${file} exists already; nothing was written`, [
      'give another file name, or replace it with --force',
    ]);
  if (!existsSync(dirname(out)))
    throw new UserError(`the folder ${dirname(out)} does not exist; create it first (mkdir -p ${dirname(file)})`);

  const source = join(EXAMPLES_DIR, `${from}.yaml`);
  const doc = parseDocument(readFileSync(source, 'utf8'));
  const planDir = dirname(out);
  const changes: string[] = [];

  // The lab's state beside the plan, named after it: two plans in one folder get two labs.
  const target = mapAt(doc, 'target');
  if (target?.get('kind') === 'lab') {
    const state = join(planDir, '.replup', 'labs', `${basename(out, extname(out))}.json`);
    target.set('state', pathFrom(planDir, state));
    changes.push(`target.state: ${pathFrom(planDir, state)} (the lab's state file, created by replup lab init)`);
  }
  // The scripts folder the example names, wherever the new plan is.
  const scripts = mapAt(doc, 'scripts');
  const dir = scripts?.get('dir');
  if (typeof dir === 'string' && !isAbsolute(dir) && !/^[a-z]:[\\/]/i.test(dir)) {
    const abs = resolve(EXAMPLES_DIR, dir);
    scripts!.set('dir', pathFrom(planDir, abs));
    changes.push(
      `scripts.dir: ${pathFrom(planDir, abs)} (replup's example scripts; put the vendor's Replication folder ` +
        `here for a real fleet)`,
    );
  }
  // A real plan's approval gate: nothing is removed until someone runs `replup approve`.
  const opts = mapAt(doc, 'options');
  const approvals = opts?.get('approvals', true);
  if (opts && isSeq(approvals) && approvals.items.length === 0) {
    const pair = opts.items.find((p) => (p.key as { value?: unknown } | null)?.value === 'approvals')!;
    (pair.key as { commentBefore?: string }).commentBefore =
      ' A real plan: nothing is removed until an operator runs `replup approve --gate remove-replication`.';
    const gate = doc.createNode(['remove-replication']);
    gate.flow = true;
    opts.set('approvals', gate);
    changes.push(
      'options.approvals: [remove-replication] (the example runs unattended; a plan of yours keeps the gate)',
    );
  }
  // The example's own notes that no longer hold here: commands naming examples/, and the gate being off.
  const stale = [
    /^#\s+replup \S+ \S+ examples\//,
    /^# Relative paths are relative to this file's folder\.$/,
    /^\s*# The demo runs unattended\. A real plan keeps the default/,
    /^\s*# so that nothing is removed until an operator runs `replup approve`\.$/,
  ];
  const kept = doc
    .toString({ lineWidth: 0, flowCollectionPadding: false })
    .split('\n')
    .filter((l) => !stale.some((re) => re.test(l)));
  // A bare "#" that separated what was removed: dropped when another follows it or no comment does.
  const body = kept.filter((l, i) => !(l === '#' && (kept[i + 1] === '#' || !kept[i + 1]?.startsWith('#')))).join('\n');
  const header =
    `# Made by \`replup plan new ${file}${from !== 'lab-small' ? ` --from ${from}` : ''}\` from examples/` +
    `${from}.yaml, its paths rewritten\n# for this folder. Relative paths are relative to this file's ` +
    `folder.\n#\n`;
  writeFileSync(out, header + body);
  return {
    text:
      `Wrote ${file} from examples/${from}.yaml:\n${changes.map((c) => `  ${c}\n`).join('')}Next: replup plan ` +
      `validate ${file}\n`,
    exitCode: EXIT.ok,
  };
}
