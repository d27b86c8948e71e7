// `replup dev` as a user runs it: a real dev server on a SQLite file, the UI answering, the
// search attributes and retention set, and a workflow surviving `dev stop` + `dev`.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../worker/dev-server.js';

const bin = resolve('cli/bin.mjs');
const cwd = mkdtempSync(join(tmpdir(), 'replup-dev-'));

function replup(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** True when nothing listens on 127.0.0.1:`port`. */
function isFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const server = createServer();
    server.once('error', () => res(false));
    server.listen(port, '127.0.0.1', () => server.close(() => res(true)));
  });
}

/** A free gRPC port whose default Web UI port (+ 1000) is free too. */
async function portPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 1000 < 65_536 && (await isFree(port + 1000))) return port;
  }
}

describe('replup dev', async () => {
  // As a user starts a second server: only --port; the Web UI and the SQLite file follow from it.
  const port = await portPair();
  const uiPort = port + 1000;
  const address = `127.0.0.1:${port}`;
  afterAll(() => {
    replup('dev', 'stop');
  });

  it('starts the dev server with the Web UI, the replup search attributes and 30-day retention', async () => {
    const r = replup('dev', '--port', String(port));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Started the Temporal dev server');
    // Another port is another server: its own SQLite file, as `replup demo --port` names it.
    expect(r.out).toContain(join(cwd, '.replup', `temporal-${port}.db`));
    const page = await fetch(`http://localhost:${uiPort}`).then((x) => x.text());
    expect(page).toContain('<!doctype html>');

    const conn = await Connection.connect({ address });
    const attrs = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(attrs.customAttributes).toMatchObject({ ReplupStep: 2, ReplupStatus: 2, ReplupFleet: 2 });
    const ns = await conn.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBeGreaterThanOrEqual(30 * 86_400);
    await conn.close();
  });

  it('--port takes a whole number: anything else is a usage error (exit 2), nothing started', () => {
    const r = replup('dev', '--port', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--port takes a whole number ≥ 1, got "x"');
  });

  it('reuses a server that already answers instead of starting a second', () => {
    const r = replup('dev', '--port', String(port));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`A Temporal server already answers at ${address}: reusing it.`);
  });

  it('keeps a workflow across `dev stop` and `dev` (same SQLite file)', async () => {
    let conn = await Connection.connect({ address });
    const client = new Client({ connection: conn });
    const workflowId = `survives-restart-${Date.now()}`;
    // No worker serves this queue: the workflow simply stays open, as a parked upgrade would.
    await client.workflow.start('personalizationUpgrade', { taskQueue: 'nobody-serves-this', workflowId, args: [] });
    await conn.close();

    const stop = replup('dev', 'stop');
    expect(stop.out).toContain('Stopped the dev server');
    const again = replup('dev', '--port', String(port));
    expect(again.out).toContain('Started the Temporal dev server');

    conn = await Connection.connect({ address });
    const desc = await new Client({ connection: conn }).workflow.getHandle(workflowId).describe();
    expect(desc.status.name).toBe('RUNNING');
    expect(desc.workflowId).toBe(workflowId);
    await conn.close();
  });
});
