// What a new user met following the README (follow-ups of issues #16 and #21), through the real
// `replup` command and a real `replup worker` on the suite's dev server, each run on a lab plan of
// its own: a lab can finish `hosts.upgrade: manual` (`replup lab upgrade`, offered in the confirm
// hint next to abort); the conflicts hint names `replup lab resolve-conflicts` after the real-fleet
// wording; an aborted run's never-reached steps read "not reached" in status, status --json, watch,
// the Web UI's details and memo, as in its report; `replup demo --port/--ui-port` runs on a dev
// server of its own on those ports.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, stopPid } from '../../worker/dev-server.js';
import {
  labPlanCopy,
  replup,
  scratchDir,
  startWorkerProcess,
  childEnv,
  type Ran,
  type WorkerProcess,
} from './cli/replup.js';
import { NOT_REACHED } from '../../workflows/step-view.js';

const scratch = scratchDir('fresh-user');
const env = childEnv(scratch);
const tag = `${process.pid}-${Date.now().toString(36)}`.toUpperCase();
let worker: WorkerProcess;

beforeAll(async () => {
  worker = await startWorkerProcess(env);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const say = (r: Ran) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
const run = (...args: string[]) => replup(args, env);

describe('a fresh user on the lab', () => {
  it(
    'hosts.upgrade: manual: the confirm hint offers `replup lab upgrade` and abort; after them the run ' +
      'completes and the lab checks',
    async () => {
      const plan = labPlanCopy(scratch, `MANUAL-${tag}`);
      const upgradeLine = '  upgrade: PersonalizationServerSetup.exe /quiet /upgrade {host} {version}\n';
      const text = readFileSync(plan.file, 'utf8');
      expect(text).toContain(upgradeLine);
      writeFileSync(plan.file, text.replace(upgradeLine, '  upgrade: manual\n'));

      expect((await run('lab', 'init', plan.file)).code).toBe(0);
      // Doing it by hand too early is refused, and changes nothing: replication is still in place.
      const early = await run('lab', 'upgrade', plan.file);
      expect(early.code, say(early)).toBe(1);
      expect(early.stderr).toMatch(/not upgraded: .*being published for replication/);
      expect(early.stderr).toContain('awaiting-confirmation');
      const labBefore = JSON.parse(readFileSync(plan.state, 'utf8')) as {
        hosts: Record<string, { productVersion: string }>;
      };
      expect(Object.values(labBefore.hosts).every((h) => h.productVersion === '8.2.0.0')).toBe(true);

      const started = await run('start', plan.file);
      expect(started.code, say(started)).toBe(0);
      const waiting = await run('watch', plan.workflowId, '--interval', '200');
      expect(waiting.code, say(waiting)).toBe(3);
      expect(waiting.stdout).toMatch(/needs an operator at upgrade \(awaiting-confirmation\)/);
      // The answers: confirm, and abort as the way out.
      expect(waiting.stdout).toContain(`replup confirm '${plan.workflowId}' --step upgrade --note "..."`);
      expect(waiting.stdout).toContain(`replup abort '${plan.workflowId}' --step upgrade --reason "..."`);
      const status = await run('status', plan.workflowId);
      // The step's instructions name the lab's own way to do the upgrade by hand (a command that runs).
      expect(status.stdout).toContain(
        `then: replup confirm --step upgrade. In this lab, \`replup lab upgrade --state ${plan.state}\` does ` +
          `that upgrade by hand; or end the run: replup abort --step upgrade`,
      );

      // What the operator would do by hand, while the worker holds the lab (through its request channel).
      const upgraded = await run('lab', 'upgrade', '--state', plan.state);
      expect(upgraded.code, say(upgraded)).toBe(0);
      // 4 servers, 3 databases
      expect(upgraded.stdout).toMatch(/^upgraded 7 personalization servers and databases to 10\.4\.0\.0/);
      expect(upgraded.stdout).toContain('replup confirm --step upgrade');
      const labAfter = JSON.parse(readFileSync(plan.state, 'utf8')) as {
        hosts: Record<string, { productVersion: string }>;
        databases: Record<string, { productVersion: string }>;
      };
      expect(
        [...Object.values(labAfter.hosts), ...Object.values(labAfter.databases)].map((x) => x.productVersion),
      ).toEqual(Array(7).fill('10.4.0.0'));

      const confirmed = await run('confirm', plan.workflowId, '--step', 'upgrade', '--note', 'lab upgraded by hand');
      expect(confirmed.code, say(confirmed)).toBe(0);
      const done = await run('watch', plan.workflowId, '--interval', '200');
      expect(done.code, say(done)).toBe(0);
      expect(done.stdout).toContain('COMPLETED');
      const check = await run('lab', 'check', plan.file);
      expect(check.code, say(check)).toBe(0);
      expect(check.stdout).toMatch(/All \d+ invariants hold/);
    },
    300_000,
  );

  it(
    'conflicts: the hint names `replup lab resolve-conflicts` after the real-fleet wording; aborted there, ' +
      'later steps read "not reached" everywhere',
    async () => {
      const plan = labPlanCopy(scratch, `CONFLICTS-${tag}`);
      expect((await run('lab', 'init', plan.file, '--conflicts', '2')).code).toBe(0);
      expect((await run('start', plan.file)).code).toBe(0);
      const parked = await run('watch', plan.workflowId, '--interval', '200');
      expect(parked.code, say(parked)).toBe(3);
      const hint = /needs an operator at sync-until-quiet \(awaiting-operator\): (.*)$/m.exec(parked.stdout)?.[1] ?? '';
      const safe = hint.indexOf('Resolve them first');
      const lab = hint.indexOf(
        `In this lab, \`replup lab resolve-conflicts --state ${plan.state}\` resolves them as a DBA would by ` +
          `hand; then retry`,
      );
      expect(safe, hint).toBeGreaterThan(0);
      expect(lab, hint).toBeGreaterThan(safe); // the real-fleet wording first
      expect(hint.indexOf('deliver a new snapshot')).toBeGreaterThan(safe);

      const aborted = await run('abort', plan.workflowId, '--step', 'sync-until-quiet', '--reason', 'fresh-user test');
      expect(aborted.code, say(aborted)).toBe(0);
      const ended = await run('watch', plan.workflowId, '--interval', '200');
      expect(ended.code, say(ended)).toBe(1);

      const json = JSON.parse((await run('status', plan.workflowId, '--json')).stdout) as {
        status: string;
        steps: { id: string; status: string }[];
      };
      expect(json.status).toBe('aborted');
      const statusOf = Object.fromEntries(json.steps.map((s) => [s.id, s.status]));
      // The step it stopped at was aborted; the ones after it never began.
      expect(statusOf['sync-until-quiet']).toBe('aborted');
      const later = ['backup', 'remove-replication', 'upgrade', 'enable-replication', 'verify-replication'];
      for (const id of later) expect(statusOf[id], id).toBe(NOT_REACHED);

      // The report, rebuilt from the history, says the same of every step.
      const report = JSON.parse((await run('report', plan.workflowId, '--json')).stdout) as {
        steps: { id: string; status: string }[];
      };
      for (const s of report.steps)
        if (s.status === NOT_REACHED || statusOf[s.id] === NOT_REACHED) expect(statusOf[s.id], s.id).toBe(s.status);

      // The terminal views: a never-reached step has no ✗ and no "aborted".
      for (const view of [(await run('status', plan.workflowId)).stdout, ended.stdout]) {
        for (const id of later) {
          const line = view.split('\n').find((l) => new RegExp(`^\\S ${id} `).test(l)) ?? '';
          expect(line, view).toMatch(new RegExp(`^○ ${id} +not reached`));
        }
        expect(view).toMatch(/^✗ sync-until-quiet +aborted/m);
      }

      // The Web UI: its details (the step table) and the memo.
      const conn = await Connection.connect({ address: inject('temporalAddress') });
      try {
        const client = new Client({ connection: conn, namespace: 'default' });
        const desc = await client.workflow.getHandle(plan.workflowId).describe();
        const memo = desc.memo?.replup as { steps: [string, string][] };
        for (const id of later) expect(memo.steps.find((s) => s[0] === id)?.[1], id).toBe(NOT_REACHED);
        const details = (
          await client.workflow
            .getHandle(plan.workflowId)
            .query<{ currentDetails: string }>('__temporal_workflow_metadata')
        ).currentDetails;
        expect(details).toMatch(/\| backup \| not reached \|/);
        expect(details).toMatch(/\| sync-until-quiet \| aborted \|/);
      } finally {
        await conn.close();
      }
    },
    300_000,
  );
});

describe('replup demo --port/--ui-port', () => {
  it(
    'starts a dev server of its own on the ports given ' + 'and runs the demo there, the UI link on --ui-port',
    async () => {
      const port = await freePort();
      const uiPort = await freePort();
      const { TEMPORAL_ADDRESS: _unset, ...rest } = env;
      const demoEnv = { ...rest };
      const demoDir = join(scratch, 'demo');
      mkdirSync(demoDir);
      // With TEMPORAL_ADDRESS set the ports would name a second server: refused, saying which to drop.
      const both = await replup(['demo', '--port', String(port)], env);
      expect(both.code, say(both)).toBe(2);
      expect(both.stderr).toContain('TEMPORAL_ADDRESS');

      const child = spawn(
        process.execPath,
        [join(process.cwd(), 'cli/bin.mjs'), 'demo', '--port', String(port), '--ui-port', String(uiPort)],
        { cwd: demoDir, env: demoEnv, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      const record = JSON.parse(readFileSync(join(demoDir, '.replup', 'dev-server.json'), 'utf8')) as {
        pid: number;
        address: string;
        uiUrl: string;
      };
      try {
        expect(code, out).toBe(0);
        expect(record.address).toBe(`127.0.0.1:${port}`);
        expect(out).toContain(`started the dev server at 127.0.0.1:${port}`);
        expect(out).toMatch(new RegExp(`Web UI: +http://[^\\s]+:${uiPort}/namespaces/default/workflows/`));
        expect(out).toMatch(/All \d+ invariants hold/);
        // The Web UI answers on the port given.
        const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
        expect(ui.ok).toBe(true);
      } finally {
        await stopPid(record.pid);
      }
    },
    300_000,
  );
});
