// Where the Temporal server is: the standard client environment (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a profile in temporal.toml) through
// @temporalio/envconfig; by default the local dev server that `replup dev` starts.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadClientConnectConfig } from '@temporalio/envconfig';

export const DEFAULT_ADDRESS = '127.0.0.1:7233';

export function temporalConfig(env: NodeJS.ProcessEnv = process.env) {
  const cfg = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  const connectionOptions = { ...cfg.connectionOptions, address: cfg.connectionOptions.address ?? DEFAULT_ADDRESS };
  return { connectionOptions, namespace: cfg.namespace ?? 'default' };
}

export class TemporalUnreachable extends Error {
  constructor(address: string, cause: unknown) {
    super(
      `cannot reach the Temporal server at ${address} (${(cause as Error)?.message ?? cause}). ` +
        ('Start one with `replup dev`, or set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TLS or API key) for ' +
          'your cluster.'),
    );
    this.name = 'TemporalUnreachable';
  }
}

/** A client for the CLI; fails fast with a clear message when nothing answers. */
export async function connectClient(env: NodeJS.ProcessEnv = process.env): Promise<Client> {
  const { connectionOptions, namespace } = temporalConfig(env);
  let connection: Connection;
  try {
    // Histories are read whole (reports, watch): a 1000-subscriber run's pages pass gRPC's 4 MiB default.
    connection = await Connection.connect({
      ...(connectionOptions as object),
      connectTimeout: 5_000,
      channelArgs: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 },
    });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    throw new TemporalUnreachable(connectionOptions.address, err);
  }
  return new Client({ connection, namespace });
}

export async function connectWorker(env: NodeJS.ProcessEnv = process.env) {
  const { connectionOptions, namespace } = temporalConfig(env);
  try {
    return { connection: await NativeConnection.connect(connectionOptions), namespace };
  } catch (err) {
    throw new TemporalUnreachable(connectionOptions.address, err);
  }
}
