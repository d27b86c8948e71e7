// Vendor scripts as operators find them (test/fixtures/cases/, from ../shared/cases/2026-11-29),
// run through a whole lab upgrade on a real Temporal dev server: the run must complete and the
// fleet pass every invariant, or stop at preflight before anything changes.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab, openLab } from '../../activities/lab/index.js';
import { labPublicationConfig } from '../../activities/lab/model.js';
import { decodeScript } from '../../activities/sqlcmd/index.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import type { RunResult } from '../../workflows/messages.js';
import { startUpgrade } from '../../cli/lib/runs.js';
import { labPlan, startWorker, uniqueQueue, useDevServer, waitFor } from './harness.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

let counter = 0;
async function run(planFile: string, patch: (p: UpgradePlan) => void = () => {}) {
  const plan = await labPlan(resolve('test/fixtures/cases', planFile), planFile, patch, 'replup-scripts-');
  await initLab(plan, { rows: 20, seed: 42 });
  const lab = openLab((plan.target as { state: string }).state);
  const taskQueue = uniqueQueue('scripts');
  const worker = await startWorker(env, taskQueue);
  const workflowId = `${upgradeWorkflowId(plan)}#scripts-${process.pid}-${++counter}`;
  await startUpgrade(env.client, plan, 'test-operator', { taskQueue, workflowId });
  const ended = await waitFor(
    env.client,
    workflowId,
    (x) => ['completed', 'aborted'].includes(x.status) || x.status.startsWith('awaiting-'),
  );
  return { plan, lab, worker, workflowId, ended };
}

type Run = Awaited<ReturnType<typeof run>>;

/** A copy of examples/replication in a new temporary folder named `prefix`…, to edit for one test. */
function exampleScriptsCopy(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(resolve('examples/replication'), dir, { recursive: true });
  return dir;
}

/** `text` as the bytes of a UTF-16 LE file with its byte order mark. */
const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);

/** A plan patch: the plan's scripts are those in `dir`. */
const scriptsIn = (dir: string) => (p: UpgradePlan) => {
  p.scripts.dir = dir;
};

/** run(planFile, patch), then `check` on it; the worker stops and the lab closes whatever `check` does. */
async function withRun(planFile: string, patch: (p: UpgradePlan) => void, check: (t: Run) => Promise<void>) {
  const t = await run(planFile, patch);
  try {
    await check(t);
  } finally {
    await t.worker.stop();
    t.lab.admin.close();
  }
}

/** The run ended completed; else the step that waits, with its error. */
function expectCompleted(t: Run) {
  const parked = t.ended.steps.find((s) => s.status.startsWith('awaiting-'));
  expect(parked ? `${parked.id}: ${parked.lastError}` : t.ended.status).toBe('completed');
}

describe('vendor scripts read as sqlcmd reads them, on a lab upgrade', () => {
  it(
    'the example folder with both publication scripts saved as UTF-16 LE with a mark and CRLF (as SSMS saves ' +
      'them): the upgrade completes with every invariant',
    async () => {
      const dir = exampleScriptsCopy('replup-scripts-utf16-');
      for (const file of ['CreateConfigPublication.sql', 'CreateDataPublication.sql']) {
        // the example's Data script is UTF-16 already
        const text = decodeScript(readFileSync(join(dir, file)), file).text.replace(/\r?\n/g, '\r\n');
        writeFileSync(join(dir, file), utf16(text));
      }
      await withRun('utf16-lab-plan.yaml', scriptsIn(dir), async (t) => {
        expectCompleted(t);
        const r = (await env.client.workflow.getHandle(t.workflowId).result()) as RunResult;
        expect(r.progress.steps.filter((s) => s.status !== 'done').map((s) => s.id)).toEqual([]);
        expect((await t.lab.admin.check()).filter((i) => !i.ok)).toEqual([]);
      });
    },
  );

  // The publication scripts decode now, but they add no article: re-created by them, Config and
  // Data would stop replicating their tables for good. Refused at preflight, before the first change.
  it(
    "the operators' utf16-scripts folder verbatim: preflight stops naming the publication, the article it " +
      'publishes today and the script that does not add it; no user drained, replication intact',
    async () => {
      await withRun(
        'utf16-lab-plan.yaml',
        () => {},
        async (t) => {
          const pre = t.ended.steps.find((s) => s.id === 'preflight')!;
          expect(pre.status).toBe('awaiting-operator');
          const script = resolve('test/fixtures/cases/utf16-scripts/CreateConfigPublication.sql');
          expect(pre.lastError).toContain(
            `publication Config on LAB-PUB/PersonalizationServer publishes PersonalizationGroup today, but ` +
              `${script} does not add it (it adds no article to Config at all)`,
          );
          expect(pre.lastError).toContain(
            "or add EXEC sp_addmergearticle @publication = N'Config', @article = N'PersonalizationGroup'",
          );
          expect(t.ended.steps.filter((s) => s.id !== 'preflight' && s.status !== 'pending').map((s) => s.id)).toEqual(
            [],
          );
          const state = await t.lab.admin.state();
          expect(
            Object.values(state.hosts)
              .filter((h) => h.drained)
              .map((h) => h.name),
          ).toEqual([]);
          const counters = Object.values(await t.lab.admin.counters());
          expect(
            counters.every(
              (c) =>
                c.scriptRuns === 0 && c.backups === 0 && c.replicationRemovals === 0 && c.subscriptionCreations === 0,
            ),
          ).toBe(true);
          // Every publication as it was when the lab was made, with its articles and subscriptions.
          const now = Object.fromEntries(
            Object.values(state.databases)
              .filter((db) => Object.keys(db.publications).length)
              .map((db) => [
                db.key,
                Object.fromEntries(Object.values(db.publications).map((p) => [p.name, labPublicationConfig(p)])),
              ]),
          );
          expect(now).toEqual(state.configAtStart);
        },
      );
    },
  );

  // The failure: a subscriber database named Pers]DB passed preflight, replication was
  // removed, then convert-row-guids failed ("Database 'Pers' does not exist"). sqlcmd pastes
  // $(SubscriberDatabase) as text; replup escapes it where it stands, so the same run completes.
  it(
    "subscriber databases named Pers]DB and O'Brien;--Zürich: every script gets the names escaped where they " +
      'stand, and the upgrade completes with every invariant',
    async () => {
      await withRun(
        'utf16-lab-plan.yaml',
        (p) => {
          p.scripts.dir = resolve('examples/replication');
          const [, sub1, sub2] = p.sites;
          sub1!.database = 'Pers]DB';
          sub2!.database = "O'Brien;--Zürich";
        },
        async (t) => {
          expectCompleted(t);
          expect((await t.lab.admin.check()).filter((i) => !i.ok)).toEqual([]);
        },
      );
    },
  );

  it(
    'a name that cannot stand where a script puts it (bare) stops preflight, naming the script, the line and ' +
      'the value, before any change',
    async () => {
      const dir = exampleScriptsCopy('replup-scripts-bare-');
      const file = join(dir, 'ConvertRowGuids.sql');
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace('USE [$(SubscriberDatabase)]', 'USE $(SubscriberDatabase)'),
      );
      await withRun(
        'utf16-lab-plan.yaml',
        (p) => {
          p.scripts.dir = dir;
          p.sites[1]!.database = 'Pers]DB';
        },
        async (t) => {
          const pre = t.ended.steps.find((s) => s.id === 'preflight')!;
          expect(pre.status).toBe('awaiting-operator');
          expect(pre.lastError).toContain(
            `${file} line 8: $(SubscriberDatabase) stands bare in the script (not inside [brackets] or quotes), ` +
              `and its value 'Pers]DB' is not a plain name or number`,
          );
          expect(t.ended.steps.filter((s) => s.id !== 'preflight' && s.status !== 'pending').map((s) => s.id)).toEqual(
            [],
          );
          expect(Object.values(await t.lab.admin.counters()).every((c) => c.scriptRuns === 0 && c.backups === 0)).toBe(
            true,
          );
        },
      );
    },
  );

  // sqlcmd-utility, :r: "filename is read relative to the startup directory in which sqlcmd was run".
  it(
    ':r with a Windows-style relative path, the included file UTF-16 LE: preflight and the run read the same ' +
      'include, and the upgrade completes with every invariant',
    async () => {
      const dir = exampleScriptsCopy('replup-scripts-include-');
      const file = join(dir, 'CreateConfigPublication.sql');
      const text = readFileSync(file, 'utf8');
      const article = /EXEC sp_addmergearticle[\s\S]*?\nGO\n/.exec(text)![0];
      writeFileSync(file, text.replace(article, ':r Articles\\Config.sql -- the article, shared\n'));
      mkdirSync(join(dir, 'Articles'));
      writeFileSync(join(dir, 'Articles', 'Config.sql'), utf16(article.replace(/\n/g, '\r\n')));
      await withRun('utf16-lab-plan.yaml', scriptsIn(dir), async (t) => {
        expectCompleted(t);
        expect((await t.lab.admin.check()).filter((i) => !i.ok)).toEqual([]);
      });
    },
  );

  it(
    'a script that does not decode is refused at ' +
      'preflight, naming the file and its encoding, before ' +
      'any change',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'replup-scripts-bad-'));
      cpSync(resolve('test/fixtures/cases/utf16-scripts'), dir, { recursive: true });
      // UTF-16 LE saved without its byte-order mark.
      writeFileSync(
        join(dir, 'CreateDataPublication.sql'),
        Buffer.from('USE [$(PublisherDatabase)]\r\nGO\r\n', 'utf16le'),
      );
      await withRun('utf16-lab-plan.yaml', scriptsIn(dir), async (t) => {
        const pre = t.ended.steps.find((s) => s.id === 'preflight')!;
        expect(pre.status).toBe('awaiting-operator');
        expect(pre.lastError).toContain(
          `script ${join(dir, 'CreateDataPublication.sql')}: read as UTF-8, line 1 contains a NUL character: ` +
            `it looks like UTF-16 saved without a byte-order mark`,
        );
        // Nothing after preflight started: no user drained, no replication removed.
        expect(t.ended.steps.filter((s) => s.id !== 'preflight' && s.status !== 'pending').map((s) => s.id)).toEqual(
          [],
        );
        expect(Object.values(await t.lab.admin.counters()).every((c) => c.scriptRuns === 0 && c.backups === 0)).toBe(
          true,
        );
      });
    },
  );
});
