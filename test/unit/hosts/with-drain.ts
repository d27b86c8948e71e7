// examples/lab-small.yaml with its hosts section replaced by one drain command template (and a
// manual upgrade), loaded as a plan: how the host-template tests try a template.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPlanText } from '../../../plan/load.js';

const example = readFileSync(resolve('examples/lab-small.yaml'), 'utf8').replace(
  /^ {2}dir: replication\b.*$/m,
  `  dir: ${resolve('examples/replication')}`,
);

/** The load result of the example plan whose hosts.drain is `drain`. */
export const withDrain = (drain: string) =>
  loadPlanText(
    example.replace(/^hosts:\n(?:(?: {2}.*)?\n)*/m, `hosts:\n  drain: ${JSON.stringify(drain)}\n  upgrade: manual\n`),
    resolve('examples/plan.yaml'),
  );
