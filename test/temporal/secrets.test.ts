// "Leaks nothing": a run whose plan names its SQL login by environment references. The worker
// process holds the values; they must appear nowhere an operator or the history can see: not in
// the histories of the run and its child workflows (payloads read both as text and as base64),
// not in the report files, not in what the worker prints, not in `replup status --json`.
// The lab does not log in, but the credentials travel exactly as for SQL Server: in the plan,
// through the workflow input, into every activity's FleetContext.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { initLab } from '../../activities/lab/index.js';
import { startUpgrade } from '../../cli/lib/runs.js';
import type { RunResult } from '../../workflows/messages.js';
import { chaosPlan } from '../chaos/chaos.js';
import { startWorkerProcess, type WorkerProcess } from '../chaos/processes.js';

const USER_REF = 'env:REPLUP_SECRETS_TEST_USER';
const PASSWORD_REF = 'env:REPLUP_SECRETS_TEST_PASSWORD';
// Random each time, so a match can only come from this run's worker environment.
const USER = `svc-replup-${randomBytes(6).toString('hex')}`;
const PASSWORD = `Pw!${randomBytes(12).toString('base64url')}`;

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Every byte of the history as text: payload data both as stored (base64) and decoded. */
function historyText(events: HistoryEvent[]): string {
  return JSON.stringify(events, (key, value) => {
    if (value instanceof Uint8Array) value = Buffer.from(value).toString('base64');
    if ((key === 'data' || key === 'encoding' || key === 'type') && typeof value === 'string')
      return `${value} ${Buffer.from(value, 'base64').toString('utf8')}`;
    return value;
  });
}

/** Everything a leak could hide in, for one value: itself and its base64 form. */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64').replace(/=+$/, '')];
}

let client: Client;
let worker: WorkerProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'replup-secrets-'));

beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(async () => {
  await worker?.kill();
  await client?.connection.close();
});

describe('credentials from environment references', () => {
  it(
    'never appear in the histories of the run and its ' + 'children, the report, the worker log or status ' + '--json',
    async () => {
      const publisher = `SECRETS-PUB-${process.pid}`;
      const { plan } = await chaosPlan(dir, 'secrets', publisher, (doc) => {
        doc.credentials = { user: USER_REF, password: PASSWORD_REF };
        // Per-subscriber work in child workflows, so children's histories are searched too.
        doc.options.childWorkflowThreshold = 1;
      });
      expect(plan.credentials).toEqual({ kind: 'sql', user: USER_REF, password: PASSWORD_REF });
      await initLab(plan, { seed: 7, rows: 10 });
      const logFile = join(dir, 'worker.log');
      const reports = join(dir, 'reports');
      worker = startWorkerProcess({
        env: {
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          REPLUP_LAB_LATENCY_SCALE: '0',
          REPLUP_SECRETS_TEST_USER: USER,
          REPLUP_SECRETS_TEST_PASSWORD: PASSWORD,
          REPLUP_REPORTS_DIR: reports,
        },
        logFile,
      });
      await worker.ready;
      const started = await startUpgrade(client, plan, 'secrets-test', {
        workflowId: `upgrade:${publisher}/PersonalizationServer#${Date.now()}`,
      });
      const handle = client.workflow.getHandle(started.workflowId);
      const result = (await handle.result()) as RunResult;
      expect(result.status).toBe('completed');

      const parent = (await handle.fetchHistory()).events ?? [];
      const children = parent
        .filter((e) => e.childWorkflowExecutionStartedEventAttributes)
        .map((e) => e.childWorkflowExecutionStartedEventAttributes!.workflowExecution!);
      expect(children.length).toBeGreaterThan(3); // the fan-outs ran as child batches
      const histories = [historyText(parent)];
      for (const child of children)
        histories.push(
          historyText((await client.workflow.getHandle(child.workflowId!, child.runId!).fetchHistory()).events ?? []),
        );
      // The references did travel (the input carries them), so the search looks at the right data.
      expect(histories[0]!.includes(PASSWORD_REF)).toBe(true);
      expect(histories.slice(1).every((h) => h.includes(USER_REF))).toBe(true);

      const reportFiles = readdirSync(reports).map((f) => readFileSync(join(reports, f), 'utf8'));
      expect(reportFiles.length).toBe(2); // Markdown and JSON
      const status = spawnSync(process.execPath, [resolve('cli/bin.mjs'), 'status', started.workflowId, '--json'], {
        env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(status.status).toBe(0);
      expect(JSON.parse(status.stdout).status).toBe('completed');
      await worker.kill();
      const log = readFileSync(logFile, 'utf8');
      expect(log).toContain(`replup worker serving task queue replup (pid ${worker.pid})`);

      const places: [string, string][] = [
        ...histories.map((h, i): [string, string] => [
          i === 0 ? 'the run history' : `child history ${children[i - 1]!.workflowId}`,
          h,
        ]),
        ...reportFiles.map((r, i): [string, string] => [`report file ${i + 1}`, r]),
        ['status --json', status.stdout + status.stderr],
        ['the worker log', log],
      ];
      const leaks = places.flatMap(([where, text]) =>
        [USER, PASSWORD]
          .flatMap(forms)
          .filter((f) => text.includes(f))
          .map((f) => `${f} in ${where}`),
      );
      expect(leaks).toEqual([]);
    },
    180_000,
  );
});
