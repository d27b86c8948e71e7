// The Temporal Web UI, checked in a real browser (Debian's chromium, driven by playwright-core):
// someone who was not there opens the suite's dev server UI and finds the story of an upgrade —
// the steps' activities with their summaries, the operator's decision with actor and reason, the
// plan in the summary, the step table as current details — and finds a stuck run in the
// workflow list by `ReplupStatus = "awaiting-operator"`; and someone away from the terminal answers
// the parked run from the UI's "Send an Update" form (#23): a wrong decision is refused with the
// validator's words, a right one is accepted and recorded with its actor as one from the CLI is.
// Screenshots go to test-artifacts/browser/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { initLab, openLab } from '../../activities/lab/index.js';
import { reportFromHistory, type RunReport } from '../../activities/report/index.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import { decide, getProgress, startUpgrade, uiUrl } from '../../cli/lib/runs.js';
import { UPDATE_HELP } from '../../workflows/runbook.js';
import { EXPECTED_UPGRADE_STEPS } from '../support/expected-steps.js';
import { connect, examplePlan, saveEnv, startWorker, uniqueQueue, waitFor, withStopped } from './harness.js';

const CHROMIUM = process.env.REPLUP_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const SHOTS = resolve('test-artifacts/browser');
const REASON = 'resolved 3 PK conflicts in the conflict viewer';

/** Why the browser test cannot run here, or undefined when it can. In CI it must run. */
function missing(): string | undefined {
  if (!existsSync(CHROMIUM))
    return (
      `no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (bash .ci/run does), or set ` +
      `REPLUP_CHROMIUM`
    );
  if (!inject('temporalUiUrl'))
    return 'the Temporal server under test has no known Web UI: set REPLUP_UI_URL along with TEMPORAL_ADDRESS';
  return undefined;
}
const why = missing();
if (why && process.env.CI === 'true') throw new Error(`the browser test must run in CI, but ${why}`);

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
let browser: BrowserContext | undefined;
let profile: string | undefined;
const completed = { id: '', report: undefined as RunReport | undefined, summary: '' };
const parked = { id: '' };
const restoreEnv = saveEnv('REPLUP_UI_URL', 'REPLUP_REPORTS_DIR');
let reportsDir: string | undefined;

beforeAll(async () => {
  if (why) {
    console.warn(`browser test skipped: ${why}`);
    return;
  }
  env = await connect();
  // The links `replup start` prints must open these pages.
  process.env.REPLUP_UI_URL = inject('temporalUiUrl');
  // The worker runs in this process; its run reports go to a scratch folder, not the repo's.
  reportsDir = mkdtempSync(join(tmpdir(), 'replup-reports-'));
  process.env.REPLUP_REPORTS_DIR = reportsDir;
  const taskQueue = uniqueQueue('browser');
  // The worker stays up: the UI asks it (a query) for the current details.
  worker = await startWorker(env, taskQueue);
  const stamp = `${process.pid}-${Date.now()}`;

  // A completed run: conflicts park the sync; dba-anna resolves them and decides retry.
  const planA = await examplePlan('lab-small.yaml');
  await initLab(planA, { rows: 20, seed: 42, conflicts: 3 });
  completed.id = `${upgradeWorkflowId(planA)}#browser-done-${stamp}`;
  completed.summary =
    `${planA.name}: upgrade ${planA.publisher.server}/${planA.publisher.database} fleet ${planA.from} → ` +
    `${planA.to}`;
  await startUpgrade(env.client, planA, 'test-operator', { taskQueue, workflowId: completed.id });
  await waitFor(env.client, completed.id, (p) => p.status === 'awaiting-operator');
  const labA = openLab((planA.target as { state: string }).state);
  await labA.admin.resolveConflicts();
  labA.admin.close();
  await decide(env.client, completed.id, 'sync-until-quiet', 'retry', REASON, 'dba-anna');
  await env.client.workflow.getHandle(completed.id).result();
  completed.report = await reportFromHistory(env.client, completed.id);

  // A parked run, left waiting for an operator.
  const planB = await examplePlan('lab-small.yaml');
  await initLab(planB, { rows: 20, seed: 42, conflicts: 1 });
  parked.id = `${upgradeWorkflowId(planB)}#browser-parked-${stamp}`;
  await startUpgrade(env.client, planB, 'test-operator', { taskQueue, workflowId: parked.id });
  await waitFor(env.client, parked.id, (p) => p.status === 'awaiting-operator');

  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'replup-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1600, height: 1000 },
  });
});

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (parked.id)
    await decide(env.client, parked.id, 'sync-until-quiet', 'abort', 'browser test over', 'test').catch(() => {});
  await worker?.stop();
  restoreEnv();
  if (reportsDir) rmSync(reportsDir, { recursive: true, force: true });
  await env?.teardown();
});

/** A fresh tab on a page of the UI; running workflows long-poll, so never wait for network idle. */
async function open(url: string): Promise<Page> {
  const page = await browser!.newPage();
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return page;
}

/** `body` on a fresh tab at `url` (see open); the tab is closed after it, whether it passes or throws. */
function onPage(url: string, body: (page: Page) => Promise<void>): Promise<void> {
  return withStopped(open(url), (page) => page.close(), body);
}

/** A test that needs Chromium and the Web UI: skipped, saying why, where they are missing (never in CI). */
function uiTest(name: string, body: () => Promise<void>): void {
  it(name, async (ctx) => {
    if (why) ctx.skip(why);
    await body();
  });
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, name) });

/** The UI renders summary, details and current details as Markdown, each in its own iframe. */
async function renderedWith(page: Page, text: string): Promise<string> {
  let found: string | undefined;
  await expect
    .poll(
      async () => {
        const texts = await Promise.all(
          page
            .frames()
            .filter((f) => f !== page.mainFrame())
            .map((f) =>
              f
                .locator('body')
                .innerText()
                .catch(() => ''),
            ),
        );
        found = texts.find((t) => t.includes(text));
        return found !== undefined;
      },
      { timeout: 30_000, message: `a rendered Markdown panel containing "${text}"` },
    )
    .toBe(true);
  return found!;
}

describe('the Temporal Web UI tells the story of an upgrade', () => {
  // A completed run's page: every step activity with its summary, and the operator's decision with actor and
  // reason.
  uiTest("a completed run's page: its steps and the operator's decision", () =>
    onPage(uiUrl(env.client, completed.id), async (page) => {
      await expect
        .poll(() => page.getByText('Completed', { exact: true }).first().isVisible(), { timeout: 30_000 })
        .toBe(true);
      // The timeline names each activity by its type and the summary the workflow gave it.
      const timeline = page.getByText('writeRunReport • report: write the run report from the history', {
        exact: true,
      });
      await timeline.waitFor({ timeout: 30_000 });
      const activities = completed.report!.activities;
      const steps = completed.report!.steps.filter((s) => s.activities > 0).map((s) => s.id);
      // Every step of the runbook ran activities, in runbook order (the list written out in test support, not
      // the plan module's the workflow publishes from, so a step dropped there fails here).
      expect(steps).toEqual([...EXPECTED_UPGRADE_STEPS]);
      // The timeline draws its labels as SVG text and cuts a long one to fit, ending it with "...":
      // such a label counts when the summary begins with what it shows.
      const shows = (labels: string[], summary: string) =>
        labels.some((l) => l === summary || (l.endsWith('...') && l.length > 40 && summary.startsWith(l.slice(0, -3))));
      for (const summary of new Set(activities.map((a) => `${a.type} • ${a.summary}`))) {
        await expect
          .poll(async () => shows(await page.locator('text').allTextContents(), summary), {
            message: `timeline entry "${summary}"`,
          })
          .toBe(true);
      }
      await page.getByText('Event History', { exact: true }).evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await shot(page, 'completed-run-timeline.png');

      // The decision is the Update `decide`: its arguments say who retried which step and why.
      await page.getByText('decide', { exact: true }).first().click();
      await page.getByText('Workflow Execution Update Accepted').first().waitFor();
      const panel = page.locator('body');
      await expect.poll(() => panel.innerText()).toMatch(/"action": "retry"/);
      const text = await panel.innerText();
      expect(text).toContain('"step": "sync-until-quiet"');
      expect(text).toContain(`"reason": "${REASON}"`);
      expect(text).toContain('"actor": "dba-anna"');
      // The decision on the timeline, between the sync's two attempts, and its arguments below it.
      await page
        .getByText('decide', { exact: true })
        .first()
        .evaluate((e) => e.scrollIntoView({ block: 'center' }));
      await page
        .getByText('"dba-anna"')
        .first()
        .evaluate((e) => e.scrollIntoView({ block: 'nearest' }));
      await shot(page, 'completed-run-decision.png');

      // User Metadata: the plan as summary and details, the step table as current details.
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      expect((await renderedWith(page, completed.summary)).trim()).toBe(completed.summary);
      expect(await renderedWith(page, 'publisher: LAB-PUB/PersonalizationServer')).toMatch(
        /lab-small: Personalization Server 8\.2\.0\.0 → 10\.4\.0\.0/,
      );
      await page.getByText('Events with Metadata').waitFor();
      const table = await renderedWith(page, 'em-personalization-upgrade on');
      expect(table).toContain('lab-small — em-personalization-upgrade on LAB-PUB/PersonalizationServer: completed');
      for (const id of steps) expect(table).toMatch(new RegExp(`${id}\\s+done`));
      // Tall enough for the plan, the step table and the list of activities by their summaries.
      await page.setViewportSize({ width: 1600, height: 2400 });
      await shot(page, 'completed-run-user-metadata.png');
    }),
  );

  // The workflow list filtered by ReplupStatus = "awaiting-operator" shows the parked run, and its page says
  // why it waits.
  uiTest('a parked run: found by ReplupStatus, its page says why it waits', async () => {
    const query = encodeURIComponent('ReplupStatus = "awaiting-operator"');
    await onPage(`${uiUrl(env.client)}?query=${query}`, async (list) => {
      await list.getByRole('link', { name: parked.id, exact: true }).waitFor({ timeout: 30_000 });
      expect(await list.getByRole('link', { name: completed.id, exact: true }).count()).toBe(0);
      await shot(list, 'list-awaiting-operator.png');
    });
    await onPage(uiUrl(env.client, parked.id), async (page) => {
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      const table = await renderedWith(page, 'em-personalization-upgrade on');
      expect(table).toContain(
        'lab-small — em-personalization-upgrade on LAB-PUB/PersonalizationServer: awaiting-operator at ' +
          'sync-until-quiet',
      );
      expect(table).toContain('error: ConflictsFound: conflicting rows need a decision');
      await shot(page, 'parked-run-user-metadata.png');
    });
  });

  // A decision sent from the Web UI: a wrong one is refused with the validator's message, a right one is
  // accepted and recorded with its actor like one from the CLI.
  uiTest("a decision sent from the Web UI: refused when wrong, recorded like the CLI's when right", () =>
    onPage(uiUrl(env.client, parked.id), async (page) => {
      await page.locator('button:visible', { hasText: 'More Actions' }).first().click();
      await page
        .locator(':visible', { hasText: /^\s*Send an Update\s*$/ })
        .last()
        .click();
      // The page holds the form twice (wide and narrow layouts): the open dialog is the one shown.
      const dialog = page.locator('dialog[open]');
      await dialog.getByTestId('update-select-button').click();
      // The list names the decisions as the CLI does, each with the JSON to type.
      for (const name of ['retry', 'skip', 'abort', 'approve', 'confirm'])
        await dialog
          .getByRole('option', { name: new RegExp(`^${name}`) })
          .first()
          .waitFor();
      await expect.poll(() => dialog.innerText()).toContain(UPDATE_HELP.retry);
      await dialog
        .getByRole('option', { name: /^retry/ })
        .first()
        .click();

      /**
       * Types the JSON into the Data editor, leaves it (Tab) and submits. The editor reformats its
       * text when it loses focus and the form draws its buttons again, so a click straight from the
       * editor lands on a button that is gone (measured: nothing is sent).
       */
      const send = async (json: string) => {
        const editor = dialog.locator('.cm-content').first();
        await editor.click();
        await page.keyboard.press('Control+A');
        await page.keyboard.press('Delete');
        await page.keyboard.insertText(json);
        await page.keyboard.press('Tab');
        await dialog.getByTestId('confirm-modal-button').click();
      };

      // The wrong step: the workflow's validator refuses it, and the form shows its words.
      await send(JSON.stringify({ step: 'backup', reason: 'from the phone', actor: 'dba-ui' }));
      const refusal =
        'step backup is pending, not waiting for a decision; the run is waiting at sync-until-quiet ' +
        '(awaiting-operator)';
      await dialog.getByText(refusal).first().waitFor({ timeout: 30_000 });
      await shot(page, 'ui-update-refused.png');
      expect((await getProgress(env.client, parked.id)).decisions).toEqual([]);

      // The right one: accepted ("Update successful"), on the record with its actor and reason.
      await send(
        JSON.stringify({ step: 'sync-until-quiet', reason: 'conflicts checked from the phone', actor: 'dba-ui' }),
      );
      await page.getByText('Update successful').first().waitFor({ timeout: 30_000 });
      await shot(page, 'ui-update-accepted.png');
      const p = await getProgress(env.client, parked.id);
      expect(p.decisions.map(({ kind, step, actor, reason }) => ({ kind, step, actor, reason }))).toEqual([
        { kind: 'retry', step: 'sync-until-quiet', actor: 'dba-ui', reason: 'conflicts checked from the phone' },
      ]);
      // The report reads it from the history as it reads the CLI's decide of dba-anna: same fields.
      const report = await reportFromHistory(env.client, parked.id);
      const fromUi = report.decisions.find((d) => d.actor === 'dba-ui')!;
      const fromCli = completed.report!.decisions.find((d) => d.actor === 'dba-anna')!;
      expect({ kind: fromUi.kind, step: fromUi.step, reason: fromUi.reason }).toEqual({
        kind: 'retry',
        step: 'sync-until-quiet',
        reason: 'conflicts checked from the phone',
      });
      // The CLI's client declares an identity (pid@host); the Web UI (2.42.1, no sign-in) sends none,
      // so a decision from it carries only the actor typed into it (README, "What is verified").
      expect(fromCli.identity).toMatch(/^\d+@/);
      expect(fromUi.identity).toBeUndefined();
      expect(Object.keys(fromUi).sort()).toEqual(
        Object.keys(fromCli)
          .filter((k) => k !== 'identity')
          .sort(),
      );
    }),
  );
});
