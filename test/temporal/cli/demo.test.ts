// `replup demo --plan FILE --metrics HOST:PORT` as a user runs it: the real CLI in a child process
// against the suite's dev server (TEMPORAL_ADDRESS set, so the demo reuses it), a lab plan of the
// test's own with a `notify:` webhook (an env: reference, resolved by the demo's in-process
// worker) to a local receiver, and the metrics endpoint scraped while the demo runs.
import { spawn } from 'node:child_process';
import { appendFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startReceiver } from '../../unit/notify/receiver.js';
import { BIN, childEnv as sharedEnv, labPlanCopy, replup, scratchDir } from './replup.js';
import { createNamespace } from './namespace.js';

const scratch = scratchDir('demo');
const tag = `${process.pid}-${Date.now().toString(36)}`.toUpperCase();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// A namespace of its own: another test's `replup worker` on task queue `replup` in the default namespace would
// take some of the demo's tasks (the demo's worker then waits on runs that are not its own).
const namespace = `demo-${tag.toLowerCase()}`;
beforeAll(() => createNamespace(inject('temporalAddress'), namespace), 120_000);
const childEnv = (dir: string, extra: NodeJS.ProcessEnv = {}) =>
  sharedEnv(dir, { TEMPORAL_NAMESPACE: namespace, ...extra });

/** Plans the demo refuses, and what its refusal says (exit 1, nothing on stdout: nothing started). */
const refused = [
  {
    plan: 'examples/sqlserver.yaml',
    says: 'examples/sqlserver.yaml targets sqlserver, not a lab: replup demo re-creates',
  },
  { plan: 'examples/openedge/plan.yaml', says: 'is a plan of runbook openedge-replication-startup' },
];

describe('replup demo --plan --metrics', () => {
  it('a plan that is not a Personalization Server upgrade on the lab is refused before anything starts', async () => {
    const childenv = childEnv(scratch);
    for (const { plan, says } of refused) {
      const r = await replup(['demo', '--plan', plan], childenv, 60_000);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`replup: ${plan} `);
      expect(r.stderr).toContain(says);
      expect(r.stderr).toContain('nothing was started');
      expect(r.stderr).toContain('replup plan new demo.yaml');
    }

    const bad = await replup(['demo', '--metrics', 'localhost'], childenv, 60_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--metrics "localhost" is not HOST:PORT');
  });

  it("runs the plan's upgrade on its re-created lab: the completed notification reaches the webhook, \
the worker's metrics are served while it runs", async () => {
    const rx = await startReceiver();
    afterAll(() => rx.close());
    const plan = labPlanCopy(scratch, `DEMO-${tag}`);
    // The plan names only the variable; the demo's process holds the URL.
    const target = '    - { name: test-receiver, kind: webhook, url: env:REPLUP_DEMO_HOOK }';
    appendFileSync(plan.file, ['', 'notify:', '  targets:', target, ''].join('\n'));
    const childenv = childEnv(scratch, { REPLUP_DEMO_HOOK: `${rx.url}/demo` });

    const args = [BIN, 'demo', '--plan', plan.file, '--metrics', '127.0.0.1:0'];
    const child = spawn(process.execPath, args, { env: childenv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let done = false;
    void exited.then(() => (done = true));

    // Scrape from the moment the demo prints the URL until it exits.
    const scrapes: string[] = [];
    let url = '';
    while (!done) {
      url ||= /^Metrics: (http:\/\/\S+)$/m.exec(stdout)?.[1] ?? '';
      if (url) {
        const r = await fetch(url).catch(() => undefined);
        if (r?.status === 200) scrapes.push(await r.text());
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const code = await exited;
    const say = `exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`;
    expect(code, say).toBe(0);
    // In a namespace of its own no other worker polls task queue replup: no warning (demo-other-worker.test.ts).
    expect(stderr, say).not.toContain('other worker');

    // What it printed, in order: the plan's lab, the worker, the metrics URL, the run.
    expect(stdout, say).toMatch(new RegExp(`^Lab: lab-small at .*DEMO-${tag}\\.json `, 'm'));
    expect(stdout.indexOf('Metrics: http://127.0.0.1:')).toBeLessThan(stdout.indexOf(`Run: ${plan.workflowId}`));
    expect(stdout).toMatch(/All \d+ invariants hold/);

    // The metrics, while it ran: replup's and the Temporal SDK's in one text.
    expect(scrapes.length, say).toBeGreaterThan(0);
    const during = scrapes.find((t) => /^temporal_\w+/m.test(t) && /^replup_runs\{status="running"\} [1-9]/m.test(t));
    expect(during, `no scrape while the run was running had both sets:\n${scrapes.at(-1)}`).toBeDefined();
    expect(during).toMatch(/^replup_runs\{status="completed"\} \d+/m);
    expect(during).toMatch(/^replup_metrics_errors_total 0$/m);

    // The run's completed notification, with its run id (the report file names it), from the demo's own worker.
    const runId = /^Report: +\S+\.([0-9a-f-]{36})\.md$/m.exec(stdout)?.[1];
    expect(runId, say).toBeDefined();
    const completed = rx.received.find((r) => r.path.endsWith('/demo') && r.body?.event === 'completed');
    expect(completed, JSON.stringify(rx.received.map((r) => r.body?.event))).toBeDefined();
    const { workflowId } = plan;
    const want = { source: 'replup', event: 'completed', workflowId, runId, status: 'completed' };
    expect(completed!.body).toMatchObject(want);
  }, 300_000);
});
