// Recorded run histories for the report builder's tests, under test/fixtures/report/.
// Stored as protobufjs' plain-object form of temporal.api.history.v1.History (longs, enums and
// bytes as strings). Not Temporal's ProtoJSON: in this install `historyToJSON`/`historyFromJSON`
// of @temporalio/common fail ("type must be a Type": its protobufjs 8 against @temporalio/proto's 7).
// `History.fromObject` reads the files back into real History messages, which
// `Worker.runReplayHistory` also accepts.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import proto from '@temporalio/proto';
import type { HistoryEvent } from '../../../activities/report/build.js';

const History = proto.temporal.api.history.v1.History;
export const FIXTURES = resolve(import.meta.dirname, '../../fixtures/report');

const toPlain = (events: HistoryEvent[]) =>
  History.toObject(History.fromObject({ events }), { longs: String, enums: String, bytes: String });

export interface RecordedRun {
  workflowId: string;
  parent: HistoryEvent[];
  children: Map<string, HistoryEvent[]>;
}

/** `<name>.history.json` (the run) and `<name>.children.json` ({ workflowId, children: { id: history } }). */
export function saveRecordedRun(name: string, run: RecordedRun, dir = FIXTURES): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.history.json`), `${JSON.stringify(toPlain(run.parent))}\n`);
  const children = Object.fromEntries([...run.children].map(([id, events]) => [id, toPlain(events)]));
  writeFileSync(join(dir, `${name}.children.json`), `${JSON.stringify({ workflowId: run.workflowId, children })}\n`);
}

export function loadRecordedRun(name: string, dir = FIXTURES): RecordedRun {
  const parent = History.fromObject(JSON.parse(readFileSync(join(dir, `${name}.history.json`), 'utf8'))).events;
  const meta = JSON.parse(readFileSync(join(dir, `${name}.children.json`), 'utf8')) as {
    workflowId: string;
    children: Record<string, object>;
  };
  const children = new Map(
    Object.entries(meta.children).map(([id, h]) => [id, History.fromObject(h).events as HistoryEvent[]]),
  );
  return { workflowId: meta.workflowId, parent: parent, children };
}
