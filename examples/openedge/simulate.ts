// The simulated OpenEdge source database the example plan (plan.yaml) starts, from the example's
// properties file. Run from the repository root:
//   npx tsx examples/openedge/simulate.ts init [--unreachable agent2] [--retry-interval 300]
//   npx tsx examples/openedge/simulate.ts reachable agent2        (the agent's broker answers from now on)
//   npx tsx examples/openedge/simulate.ts unreachable agent2
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPropertiesErrors, parseReplicationProperties } from '../../activities/openedge-startup/properties.js';
import { createSimState, setAgentReachable, writeSimState } from '../../activities/openedge-startup/sim.js';

/** Where plan.yaml's commands keep the state (relative to the repository root). */
export const STATE_FILE = '.replup/openedge/sports.json';

const USAGE =
  'usage: simulate.ts init [--unreachable AGENT,...] [--retry-interval SECONDS] | reachable AGENT | unreachable AGENT';

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { unreachable: { type: 'string' }, 'retry-interval': { type: 'string' } },
  });
  const [command, agent] = positionals;
  if (command === 'init') {
    const file = join(import.meta.dirname, 'sports.repl.properties');
    const props = parseReplicationProperties(await readFile(file, 'utf8'));
    if (!props.ok) {
      process.stderr.write(`${formatPropertiesErrors(file, props.errors).join('\n')}\n`);
      return 1;
    }
    const interval = Number(values['retry-interval'] ?? 300);
    if (!Number.isInteger(interval) || interval < 1) {
      process.stderr.write(`--retry-interval takes whole seconds ≥ 1, got "${values['retry-interval']}"\n`);
      return 2;
    }
    const unreachable = values.unreachable ? values.unreachable.split(',').map((s) => s.trim()) : [];
    const unknown = unreachable.filter((a) => !props.value.controlAgents.some((c) => c.name === a));
    if (unknown.length) {
      process.stderr.write(
        `--unreachable: no agent ${unknown.join(', ')} in ${file}; its agents are ` +
          `${props.value.controlAgents.map((c) => c.name).join(', ')}\n`,
      );
      return 2;
    }
    await mkdir(dirname(STATE_FILE), { recursive: true });
    await writeSimState(STATE_FILE, createSimState(props.value, { retryIntervalSeconds: interval, unreachable }));
    process.stdout.write(
      `${STATE_FILE}: source database sports, agents ` +
        `${props.value.controlAgents.map((c) => c.name).join(', ')}` +
        `${unreachable.length ? `; not reachable: ${unreachable.join(', ')}` : ''}\n`,
    );
    return 0;
  }
  if ((command === 'reachable' || command === 'unreachable') && agent) {
    await setAgentReachable(STATE_FILE, agent, command === 'reachable');
    process.stdout.write(`${agent} is ${command} from now on; the server notices at its next try\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
