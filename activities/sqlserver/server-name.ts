// The plan names a server the way sqlcmd does: HOST, HOST\INSTANCE or HOST,PORT
// (plan/personalization-upgrade/types.ts).

export interface ServerAddress {
  host: string;
  port?: number;
  instanceName?: string;
}

export function parseServerName(server: string): ServerAddress {
  const text = server.trim().replace(/^tcp:/i, '');
  const comma = /^([^,\\]+),\s*(\d+)$/.exec(text);
  if (comma) {
    const port = Number(comma[2]);
    if (port < 1 || port > 65535) throw new Error(`server '${server}': port ${comma[2]} is not between 1 and 65535`);
    return { host: localHost(comma[1] ?? ''), port };
  }
  const instance = /^([^,\\]+)\\([^,\\]+)$/.exec(text);
  if (instance) return { host: localHost(instance[1] ?? ''), instanceName: instance[2] ?? '' };
  if (/^[^,\\\s]+$/.test(text)) return { host: localHost(text) };
  throw new Error(`server '${server}' is not HOST, HOST\\INSTANCE or HOST,PORT`);
}

// sqlcmd's shorthands for this machine.
function localHost(host: string): string {
  return host === '.' || host.toLowerCase() === '(local)' ? 'localhost' : host;
}
