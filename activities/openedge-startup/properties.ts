// The OpenEdge replication properties file (DOMAIN.md §3, seed 002): `[server]` on the source,
// one `[control-agent.NAME]` per agent, `[agent]` on the target. Pure (no Node imports).
// Rules: names up to 15 characters, `ALL` is reserved (dsrutil -C connectagent ALL), deferred
// agent start-up (defer-agent-startup 5-10080 minutes) needs asynchronous agents, and the agents
// listed in control-agents and the [control-agent.NAME] sections must match one to one.
// A comment ("#") is allowed only on a line of its own, never on the line of a value (DOMAIN.md §3,
// issue 22; not found in Progress's pages we could search): every such line is refused with the
// fix, and its other checks see the value without the comment, so the error names the real cause.

export type ReplicationMethod = 'sync' | 'async';

export interface ControlAgent {
  name: string;
  database: string;
  host: string;
  port: number;
  /** Seconds the server waits for the agent on each connection attempt. */
  connectTimeout: number;
  replicationMethod: ReplicationMethod;
  /** A critical agent that cannot connect stops replication (critical=1). */
  critical: boolean;
  /** Line of the section header, for messages. */
  line: number;
}

export interface ServerSection {
  controlAgents: string[];
  database: string;
  /** Minutes; 0 = off. */
  deferAgentStartup: number;
  line: number;
}

export interface ReplicationProperties {
  server?: ServerSection;
  controlAgents: ControlAgent[];
  /** The target side's [agent] section, as written. */
  agent?: Record<string, string>;
}

export interface PropertiesIssue {
  line: number;
  message: string;
}

export type PropertiesResult = { ok: true; value: ReplicationProperties } | { ok: false; errors: PropertiesIssue[] };

export const MAX_AGENT_NAME = 15;
export const DEFER_MINUTES = { min: 5, max: 10080 } as const;
export const DEFAULT_CONNECT_TIMEOUT = 120; // (inferred) the documented default of connect-timeout

interface Section {
  name: string;
  line: number;
  keys: Map<string, { value: string; line: number }>;
}

/** Why an agent name is not allowed, or undefined. */
export function agentNameProblem(name: string): string | undefined {
  if (name === '') return 'an agent name must not be empty';
  if (name.length > MAX_AGENT_NAME)
    return `agent name "${name}" is ${name.length} characters long; at most ${MAX_AGENT_NAME} are allowed`;
  if (name.toUpperCase() === 'ALL')
    return `"${name}" cannot be an agent name: ALL is reserved (dsrutil -C connectagent ALL means every agent)`;
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return `agent name "${name}" may only hold letters, digits, _ and -`;
  return undefined;
}

/** Why a defer-agent-startup value is not allowed, or undefined: 0 (off) or 5 to 10080 minutes. */
export function deferMinutesProblem(minutes: number): string | undefined {
  if (Number.isInteger(minutes) && (minutes === 0 || (minutes >= DEFER_MINUTES.min && minutes <= DEFER_MINUTES.max)))
    return undefined;
  return (
    `defer-agent-startup must be 0 (off) or ${DEFER_MINUTES.min} to ${DEFER_MINUTES.max} minutes (7 days), ` +
    `found ${minutes}`
  );
}

/** The error for a "#" after the start of a line, and the line without it. */
function withoutComment(trimmed: string, line: number, errors: PropertiesIssue[]): string {
  const at = trimmed.indexOf('#');
  if (at < 0) return trimmed;
  const code = trimmed.slice(0, at).trimEnd();
  const comment = trimmed.slice(at);
  const header = code.startsWith('[');
  const pair = /^([A-Za-z][\w-]*)\s*=/.exec(code);
  const what = header ? 'a section header' : pair ? `the value of ${pair[1]}` : 'a property';
  errors.push({
    line,
    message:
      `a comment on the line of ${what} ("${comment}"): OpenEdge Replication allows a comment only on a line ` +
      `of its own; move it to a line of its own above "${code}"`,
  });
  return code;
}

function splitSections(text: string, errors: PropertiesIssue[]): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '' || raw.trim().startsWith('#')) return;
    const trimmed = withoutComment(raw.trim(), line, errors);
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header) {
      const name = (header[1] ?? '').trim();
      if (sections.some((s) => s.name === name))
        errors.push({ line, message: `section [${name}] appears twice: merge the two` });
      current = { name, line, keys: new Map() };
      sections.push(current);
      return;
    }
    const pair = /^([A-Za-z][\w-]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!pair) {
      errors.push({ line, message: `expected "[section]" or "key=value", found "${trimmed}"` });
      return;
    }
    const [, key = '', value = ''] = pair;
    if (!current) {
      errors.push({
        line,
        message: `"${key}" is outside any section: put it under [server], [control-agent.NAME] or [agent]`,
      });
      return;
    }
    if (current.keys.has(key))
      errors.push({
        line,
        message: `${key} is set twice in [${current.name}] (first on line ${current.keys.get(key)?.line})`,
      });
    current.keys.set(key, { value: value.trim(), line });
  });
  return sections;
}

function required(
  section: Section,
  key: string,
  errors: PropertiesIssue[],
  hint: string,
): { value: string; line: number } | undefined {
  const entry = section.keys.get(key);
  if (!entry || entry.value === '')
    errors.push({ line: entry?.line ?? section.line, message: `[${section.name}] needs ${key}=${hint}` });
  return entry && entry.value !== '' ? entry : undefined;
}

function wholeNumber(
  entry: { value: string; line: number },
  key: string,
  errors: PropertiesIssue[],
): number | undefined {
  if (!/^\d+$/.test(entry.value)) {
    errors.push({ line: entry.line, message: `${key} must be a whole number, found "${entry.value}"` });
    return undefined;
  }
  return Number(entry.value);
}

export function parseReplicationProperties(text: string): PropertiesResult {
  const errors: PropertiesIssue[] = [];
  const sections = splitSections(text, errors);
  const result: ReplicationProperties = { controlAgents: [] };

  for (const section of sections) {
    if (section.name === 'server') result.server = readServer(section, errors);
    else if (section.name.startsWith('control-agent.')) {
      const agent = readControlAgent(section, errors);
      if (agent) result.controlAgents.push(agent);
    } else if (section.name === 'agent') {
      required(section, 'name', errors, 'the agent name the source lists in control-agents');
      required(section, 'database', errors, 'the target database');
      result.agent = Object.fromEntries([...section.keys].map(([k, v]) => [k, v.value]));
    } else if (!isOtherKnownSection(section.name)) {
      errors.push({
        line: section.line,
        message: `unknown section [${section.name}]: expected [server], [control-agent.NAME], [agent] or [transition]`,
      });
    }
  }

  if (!result.server && !result.agent) {
    errors.push({
      line: 1,
      message:
        'no [server] section (source database) and no [agent] section (target database): the file configures nothing',
    });
  }
  if (result.server) crossCheck(result.server, result.controlAgents, sections, errors);
  else
    for (const a of result.controlAgents)
      errors.push({
        line: a.line,
        message: `[control-agent.${a.name}] without a [server] section: control agents belong in the source's file`,
      });

  if (errors.length > 0) return { ok: false, errors: errors.sort((a, b) => a.line - b.line) };
  return { ok: true, value: result };
}

function isOtherKnownSection(name: string): boolean {
  return ['transition', 'agent-transition'].includes(name) || name.startsWith('transition.');
}

function readServer(section: Section, errors: PropertiesIssue[]): ServerSection {
  const list = required(
    section,
    'control-agents',
    errors,
    'the agent names, comma separated (e.g. control-agents=agent1,agent2)',
  );
  const database = required(section, 'database', errors, 'the source database name');
  const controlAgents = list ? list.value.split(',').map((s) => s.trim()) : [];
  controlAgents.forEach((name, i) => {
    const problem = agentNameProblem(name);
    if (problem && list) errors.push({ line: list.line, message: `control-agents: ${problem}` });
    if (controlAgents.indexOf(name) !== i && list)
      errors.push({ line: list.line, message: `control-agents lists "${name}" twice` });
  });
  let deferAgentStartup = 0;
  const defer = section.keys.get('defer-agent-startup');
  if (defer) {
    const minutes = wholeNumber(defer, 'defer-agent-startup', errors);
    const problem = minutes === undefined ? undefined : deferMinutesProblem(minutes);
    if (problem) errors.push({ line: defer.line, message: problem });
    else if (minutes !== undefined) deferAgentStartup = minutes;
  }
  return { controlAgents, database: database?.value ?? '', deferAgentStartup, line: section.line };
}

function readControlAgent(section: Section, errors: PropertiesIssue[]): ControlAgent | undefined {
  const sectionName = section.name.slice('control-agent.'.length);
  const problem = agentNameProblem(sectionName);
  if (problem) errors.push({ line: section.line, message: `[${section.name}]: ${problem}` });
  const name = required(section, 'name', errors, sectionName);
  if (name && name.value !== sectionName)
    errors.push({
      line: name.line,
      message: `name=${name.value} does not match the section [${section.name}]: write name=${sectionName}`,
    });
  const database = required(section, 'database', errors, 'the target database name');
  const host = required(section, 'host', errors, "the target machine's host name or address");
  const portEntry = required(section, 'port', errors, "the target database broker's port");
  const port = portEntry ? wholeNumber(portEntry, 'port', errors) : undefined;
  if (portEntry && port !== undefined && (port < 1 || port > 65535))
    errors.push({ line: portEntry.line, message: `port must be 1 to 65535, found ${port}` });
  const timeoutEntry = section.keys.get('connect-timeout');
  const connectTimeout = timeoutEntry ? wholeNumber(timeoutEntry, 'connect-timeout', errors) : DEFAULT_CONNECT_TIMEOUT;
  const methodEntry = required(section, 'replication-method', errors, 'sync or async');
  if (methodEntry && methodEntry.value !== 'sync' && methodEntry.value !== 'async') {
    errors.push({
      line: methodEntry.line,
      message: `replication-method must be sync or async, found "${methodEntry.value}"`,
    });
  }
  const criticalEntry = section.keys.get('critical');
  if (criticalEntry && criticalEntry.value !== '0' && criticalEntry.value !== '1') {
    errors.push({ line: criticalEntry.line, message: `critical must be 0 or 1, found "${criticalEntry.value}"` });
  }
  return {
    name: sectionName,
    database: database?.value ?? '',
    host: host?.value ?? '',
    port: port ?? 0,
    connectTimeout: connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
    replicationMethod: methodEntry?.value === 'sync' ? 'sync' : 'async',
    critical: criticalEntry?.value === '1',
    line: section.line,
  };
}

function crossCheck(
  server: ServerSection,
  agents: ControlAgent[],
  sections: Section[],
  errors: PropertiesIssue[],
): void {
  const listLine = sections.find((s) => s.name === 'server')?.keys.get('control-agents')?.line ?? server.line;
  for (const name of server.controlAgents) {
    if (name !== '' && !agents.some((a) => a.name === name)) {
      errors.push({
        line: listLine,
        message:
          `control-agents names "${name}" but there is no [control-agent.${name}] section: add it or remove ` +
          `the name`,
      });
    }
  }
  for (const agent of agents) {
    if (!server.controlAgents.includes(agent.name)) {
      errors.push({
        line: agent.line,
        message:
          `[control-agent.${agent.name}] is not listed in control-agents (line ${listLine}): add ${agent.name} ` +
          `there or remove the section`,
      });
    }
  }
  if (server.deferAgentStartup > 0) {
    const deferLine = sections.find((s) => s.name === 'server')?.keys.get('defer-agent-startup')?.line ?? server.line;
    for (const agent of agents.filter((a) => a.replicationMethod === 'sync')) {
      errors.push({
        line:
          sections.find((s) => s.name === `control-agent.${agent.name}`)?.keys.get('replication-method')?.line ??
          agent.line,
        message:
          `agent ${agent.name} is synchronous, but defer-agent-startup=${server.deferAgentStartup} (line ` +
          `${deferLine}) needs replication-method=async for every agent`,
      });
    }
  }
}

export function formatPropertiesErrors(file: string, errors: PropertiesIssue[]): string[] {
  return errors.map((e) => `${file}:${e.line}: ${e.message}`);
}
