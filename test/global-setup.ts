// One real Temporal dev server for the `temporal` test project, on free ports, through the same
// resolver users get. TEMPORAL_ADDRESS points the suites at an existing server instead.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, prepareNamespace, startDevServer, type DevServerHandle } from '../worker/dev-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    temporalDbFile: string;
    temporalCli: string;
    temporalUiPort: number;
    temporalPort: number;
  }
}

let server: DevServerHandle | undefined;

export async function setup(project: TestProject) {
  if (process.env.TEMPORAL_ADDRESS) {
    await prepareNamespace(process.env.TEMPORAL_ADDRESS);
    project.provide('temporalAddress', process.env.TEMPORAL_ADDRESS);
    project.provide('temporalUiUrl', process.env.REPLUP_UI_URL ?? '');
    project.provide('temporalDbFile', '');
    project.provide('temporalCli', '');
    project.provide('temporalPort', 0);
    project.provide('temporalUiPort', 0);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'replup-temporal-'));
  const port = await freePort();
  const uiPort = await freePort();
  const dbFile = join(dir, 'temporal.db');
  server = await startDevServer({ dbFile, port, uiPort, logFile: join(dir, 'temporal.log'), detached: false });
  project.provide('temporalAddress', server.address);
  project.provide('temporalUiUrl', server.uiUrl);
  project.provide('temporalDbFile', dbFile);
  project.provide('temporalCli', server.cli.path);
  project.provide('temporalPort', port);
  project.provide('temporalUiPort', uiPort);
}

export async function teardown() {
  await server?.stop();
}
