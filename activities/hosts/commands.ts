// The personalization servers of a real fleet, driven by the plan's command templates (run by the
// worker through /bin/sh). Placeholders: {host}, {service}, {version}. Values are inserted as they
// are (templates quote them as their shell needs) but only when they hold no shell syntax. Without a query template
// replup cannot observe a host, so it remembers what it did itself (and says so in the README): drained after a
// successful drain command, etc.
// Secrets: {env:NAME} and {file:PATH} are resolved here, on the worker, never in the plan or history.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { DbRef, HostCommands } from '../../plan/personalization-upgrade/types.js';
import { secretReferences } from '../../plan/template-secrets.js';
import type { HostPort, ServiceState } from '../ports.js';

const run = promisify(execFile);

/** Fills a template's placeholders with shell-quoted values; an unknown placeholder is an error. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined)
      throw new Error(
        `command template "${template}" uses {${name}}, which this command does not provide (it has ${Object.keys(
          values,
        )
          .map((k) => `{${k}}`)
          .join(', ')})`,
      );
    if (!/^[\w .-]+$/.test(v))
      throw new Error(
        `refusing to put ${JSON.stringify(v)} into a shell command: only letters, digits, space, '.', '-' ` +
          `and '_' are allowed`,
      );
    return v;
  });
}

/** A value as one single-quoted /bin/sh word, whatever it holds (a password may hold anything). */
const shellWord = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * Replaces each {env:NAME} / {file:PATH} of a command with the secret, quoted as one shell word
 * (so the template must not quote it). Runs on the worker: the value never enters the plan, the
 * workflow history or the log. A missing variable or unreadable file is an error naming it.
 */
export function resolveSecrets(
  command: string,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
  read = (p: string) => readFileSync(p, 'utf8'),
): { command: string; secrets: string[] } {
  let out = command;
  const secrets: string[] = [];
  for (const ref of secretReferences(command)) {
    let value: string;
    if (ref.kind === 'env') {
      const v = env[ref.name];
      if (v === undefined)
        throw new Error(
          `hosts.${what} uses ${ref.text}, but ${ref.name} is not set in the worker's environment: set it ` +
            `where the worker starts (replup worker), then retry`,
        );
      value = v;
    } else {
      try {
        // A secret file usually ends with a newline that is not part of the secret.
        value = read(ref.name).replace(/\r?\n$/, '');
      } catch (err) {
        throw new Error(
          `hosts.${what} uses ${ref.text}, but the worker cannot read ${ref.name} (` +
            `${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): create it on the worker's ` +
            `machine, readable by the worker's account only, then retry`,
        );
      }
    }
    out = out.split(ref.text).join(shellWord(value));
    if (value) secrets.push(value);
  }
  return { command: out, secrets };
}

/** Runs a command whose secrets were resolved; its error names the command with references, the secrets masked. */
async function runMasked(cmd: string, what: string, timeoutMs: number): Promise<void> {
  const { command, secrets } = resolveSecrets(cmd, what);
  try {
    await run('/bin/sh', ['-c', command], { timeout: timeoutMs });
  } catch (err) {
    const e = err as { code?: number | string; signal?: string; stderr?: string };
    let detail = String(e.stderr ?? '')
      .trim()
      .slice(-2_000);
    for (const secret of secrets) detail = detail.split(secret).join('******');
    const how = e.signal ? `was stopped (${e.signal})` : `exited with ${e.code ?? 'an error'}`;
    throw new Error(`hosts.${what} command ${how}: ${cmd}${detail ? `\n${detail}` : ''}`);
  }
}

export interface CommandHostOptions {
  commands: HostCommands;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export function createCommandHosts(opts: CommandHostOptions): HostPort {
  const drained = new Map<string, boolean>();
  const services = new Map<string, ServiceState>();
  const versions = new Map<string, string>();
  const exec = async (what: keyof HostCommands, values: Record<string, string>) => {
    const template = opts.commands[what];
    if (!template || template === 'manual')
      throw new Error(`the plan has no hosts.${what} command; add one or run that part by hand`);
    const cmd = fillTemplate(template, values);
    // Logged with the references, not the secrets.
    opts.log?.(`running hosts.${what}: ${cmd}`);
    await runMasked(cmd, what, opts.timeoutMs ?? 30 * 60_000);
  };
  return {
    async drain(host) {
      await exec('drain', { host });
      drained.set(host, true);
    },
    async undrain(host) {
      await exec('undrain', { host });
      drained.set(host, false);
    },
    async isDrained(host) {
      return drained.get(host) ?? false;
    },
    async serviceState(host, service) {
      return services.get(`${host}\u0000${service}`) ?? 'running';
    },
    async stopService(host, service) {
      await exec('stopService', { host, service });
      services.set(`${host}\u0000${service}`, 'stopped');
    },
    async startService(host, service) {
      await exec('startService', { host, service });
      services.set(`${host}\u0000${service}`, 'running');
    },
    async productVersion(host) {
      return versions.get(host) ?? '0.0.0.0';
    },
    async upgradeHost(host, to) {
      await exec('upgrade', { host, version: to });
      versions.set(host, to);
    },
    async upgradeDatabase(_db: DbRef, _to: string) {
      // The vendor's installer upgrades the database when it upgrades the host (the seed:
      // "upgrading databases when prompted"); the version is verified from the database itself.
    },
  };
}
