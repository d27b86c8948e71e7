// The personalization servers of a real fleet, driven by the plan's command templates (run by the
// worker through /bin/sh). Placeholders: {host}, {service}, {version}. Values are inserted as they
// are (templates quote them as their shell needs) but only when they hold no shell syntax. Without a query template replup cannot observe a host, so it remembers
// what it did itself (and says so in the README): drained after a successful drain command, etc.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DbRef, HostCommands } from '../../plan/types.js';
import type { HostPort, ServiceState } from '../ports.js';

const run = promisify(execFile);

/** Fills a template's placeholders with shell-quoted values; an unknown placeholder is an error. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`command template "${template}" uses {${name}}, which this command does not provide (it has ${Object.keys(values).map((k) => `{${k}}`).join(', ')})`);
    if (!/^[\w .\-]+$/.test(v)) throw new Error(`refusing to put ${JSON.stringify(v)} into a shell command: only letters, digits, space, '.', '-' and '_' are allowed`);
    return v;
  });
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
    if (!template || template === 'manual') throw new Error(`the plan has no hosts.${what} command; add one or run that part by hand`);
    const cmd = fillTemplate(template, values);
    opts.log?.(`running hosts.${what}: ${cmd}`);
    await run('/bin/sh', ['-c', cmd], { timeout: opts.timeoutMs ?? 30 * 60_000 });
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
