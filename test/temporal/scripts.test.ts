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
import { utf16Case } from '../support/utf16-scripts.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

let counter = 0;
/** The operators' plan (utf16-lab-plan.yaml beside its utf16-scripts folder, assembled afresh), with `patch`, run. */
async function run(patch: (p: UpgradePlan) => void) {
  const operators = utf16Case('replup-scripts-case-');
  const plan = await labPlan(operators.plan, 'utf16-lab-plan.yaml', patch, 'replup-scripts-');
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
  return { plan, lab, worker, workflowId, ended, scripts: operators.scripts };
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

/** A plan patch that changes nothing: the plan as the operators wrote it. */
const asWritten = () => {};

/** A plan patch: the plan's scripts are those in `dir`. */
const scriptsIn = (dir: string) => (p: UpgradePlan) => {
  p.scripts.dir = dir;
};

/** run(patch), then `check` on it; the worker stops and the lab closes whatever `check` does. */
async function withRun(patch: (p: UpgradePlan) => void, check: (t: Run) => Promise<void>) {
  const t = await run(patch);
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

/** Preflight waits for an operator and no step after it began; returns preflight's error. */
function preflightRefusal(t: Run): string | undefined {
  const pre = t.ended.steps.find((s) => s.id === 'preflight')!;
  expect(pre.status).toBe('awaiting-operator');
  expect(t.ended.steps.filter((s) => s.id !== 'preflight' && s.status !== 'pending').map((s) => s.id)).toEqual([]);
  return pre.lastError;
}

/** No script ran and no backup was taken on any server of the lab. */
async function expectNoScriptRunOrBackup(t: Run) {
  expect(Object.values(await t.lab.admin.counters()).every((c) => c.scriptRuns === 0 && c.backups === 0)).toBe(true);
}

describe('vendor scripts read as sqlcmd reads them, on a lab upgrade', () => {
  // The example folder with both publication scripts saved as UTF-16 LE with a mark and CRLF (as SSMS
  // saves them): the upgrade completes with every invariant.
  it('publication scripts in UTF-16 LE with CRLF: the upgrade completes', async () => {
    const dir = exampleScriptsCopy('replup-scripts-utf16-');
    for (const file of ['CreateConfigPublication.sql', 'CreateDataPublication.sql']) {
      // the example's Data script is UTF-16 already
      const text = decodeScript(readFileSync(join(dir, file)), file).text.replace(/\r?\n/g, '\r\n');
      writeFileSync(join(dir, file), utf16(text));
    }
    await withRun(scriptsIn(dir), async (t) => {
      expectCompleted(t);
      const r = (await env.client.workflow.getHandle(t.workflowId).result()) as RunResult;
      expect(r.progress.steps.filter((s) => s.status !== 'done').map((s) => s.id)).toEqual([]);
      expect((await t.lab.admin.check()).filter((i) => !i.ok)).toEqual([]);
    });
  });

  // The operators' utf16-scripts folder verbatim: the publication scripts decode now, but they add no
  // article: re-created by them, Config and Data would stop replicating their tables for good. Preflight
  // stops, naming the publication, the article it publishes today and the script that does not add it,
  // before the first change: no user drained, replication intact.
  it("the operators' utf16-scripts folder: preflight refuses scripts that add no article", async () => {
    await withRun(asWritten, async (t) => {
      const error = preflightRefusal(t);
      const script = join(t.scripts, 'CreateConfigPublication.sql');
      expect(error).toContain(
        `publication Config on LAB-PUB/PersonalizationServer publishes PersonalizationGroup today, but ` +
          `${script} does not add it (it adds no article to Config at all)`,
      );
      expect(error).toContain(
        "or add EXEC sp_addmergearticle @publication = N'Config', @article = N'PersonalizationGroup'",
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
          (c) => c.scriptRuns === 0 && c.backups === 0 && c.replicationRemovals === 0 && c.subscriptionCreations === 0,
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
    });
  });

  // The failure: a subscriber database named Pers]DB passed preflight, replication was
  // removed, then convert-row-guids failed ("Database 'Pers' does not exist"). sqlcmd pastes
  // $(SubscriberDatabase) as text; replup escapes it where it stands, so the same run completes
  // with every invariant.
  it("subscriber databases Pers]DB and O'Brien;--Zürich: escaped where they stand, completes", async () => {
    const databases = (p: UpgradePlan) => {
      p.scripts.dir = resolve('examples/replication');
      const [, sub1, sub2] = p.sites;
      sub1!.database = 'Pers]DB';
      sub2!.database = "O'Brien;--Zürich";
    };
    await withRun(databases, async (t) => {
      expectCompleted(t);
      expect((await t.lab.admin.check()).filter((i) => !i.ok)).toEqual([]);
    });
  });

  // A name that cannot stand where a script puts it (bare) stops preflight, naming the script, the
  // line and the value, before any change.
  it('a name that cannot stand bare in a script stops preflight, naming the line and value', async () => {
    const dir = exampleScriptsCopy('replup-scripts-bare-');
    const file = join(dir, 'ConvertRowGuids.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace('USE [$(SubscriberDatabase)]', 'USE $(SubscriberDatabase)'));
    const bareName = (p: UpgradePlan) => {
      p.scripts.dir = dir;
      p.sites[1]!.database = 'Pers]DB';
    };
    await withRun(bareName, async (t) => {
      expect(preflightRefusal(t)).toContain(
        `${file} line 8: $(SubscriberDatabase) stands bare in the script (not inside [brackets] or quotes), ` +
          `and its value 'Pers]DB' is not a plain name or number`,
      );
      await expectNoScriptRunOrBackup(t);
    });
  });

  // sqlcmd-utility, :r: "filename is read relative to the startup directory in which sqlcmd was run".
  // With a Windows-style relative path and the included file in UTF-16 LE, preflight and the run read
  // the same include, and the upgrade completes with every invariant.
  it(':r with a Windows-style relative path to a UTF-16 LE file: the upgrade completes', async () => {
    const dir = exampleScriptsCopy('replup-scripts-include-');
    const file = join(dir, 'CreateConfigPublication.sql');
    const text = readFileSync(file, 'utf8');
    const article = /EXEC sp_addmergearticle[\s\S]*?\nGO\n/.exec(text)![0];
    writeFileSync(file, text.replace(article, ':r Articles\\Config.sql -- the article, shared\n'));
    mkdirSync(join(dir, 'Articles'));
    writeFileSync(join(dir, 'Articles', 'Config.sql'), utf16(article.replace(/\n/g, '\r\n')));
    await withRun(scriptsIn(dir), async (t) => {
      expectCompleted(t);
      expect((await t.lab.admin.check()).filter((i) => !i.ok)).toEqual([]);
    });
  });

  // A script that does not decode is refused at preflight, naming the file and its encoding, before any change.
  it('a script that does not decode: preflight refuses it, naming the file and its encoding', async () => {
    const dir = utf16Case('replup-scripts-bad-').scripts;
    // UTF-16 LE saved without its byte-order mark.
    writeFileSync(
      join(dir, 'CreateDataPublication.sql'),
      Buffer.from('USE [$(PublisherDatabase)]\r\nGO\r\n', 'utf16le'),
    );
    await withRun(scriptsIn(dir), async (t) => {
      expect(preflightRefusal(t)).toContain(
        `script ${join(dir, 'CreateDataPublication.sql')}: read as UTF-8, line 1 contains a NUL character: ` +
          `it looks like UTF-16 saved without a byte-order mark`,
      );
      // Nothing after preflight started (preflightRefusal): no user drained, no replication removed.
      await expectNoScriptRunOrBackup(t);
    });
  });
});
