// Shared set-up for the Berkeley DB tests: real db5.3 environments in a temporary folder.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { BdbRole, ReplicationPair } from '../../../activities/bdb-replicant/db-config.js';
import {
  BdbServiceError,
  startService,
  stopService,
  type BdbService,
} from '../../../activities/bdb-replicant/service.js';
import { runTool } from '../../../activities/bdb-replicant/tools.js';

export const SEED_DB_CONFIG = path.resolve(import.meta.dirname, '../../../examples/bdb/DB_CONFIG.seed');

/** A master at 192.0.2.10 and a replicant at 192.0.2.20 (documentation addresses, never reached) on these ports. */
export const documentationPair = (masterPort: number, replicantPort: number): ReplicationPair => ({
  master: { host: '192.0.2.10', port: masterPort },
  replicant: { host: '192.0.2.20', port: replicantPort },
});

/** Line `n` (from 1) of `text`. */
export const lineOf = (text: string, n: number) => text.split('\n')[n - 1];

export async function scratch(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `replup-${prefix}-`));
}

/**
 * For one test file: a scratch folder (`root`, made before all tests, removed after) and the
 * local replication services its tests start (`service`: each stopped after all tests).
 */
export function loopbackServices(prefix: string): {
  root: string;
  service: (role: BdbRole, envDir: string) => BdbService;
} {
  const started: BdbService[] = [];
  const lab = {
    root: '',
    service(role: BdbRole, envDir: string): BdbService {
      const svc: BdbService = { role, host: '127.0.0.1', envDir, control: { kind: 'local' } };
      started.push(svc);
      return svc;
    },
  };
  beforeAll(async () => {
    lab.root = await scratch(prefix);
  });
  afterAll(async () => {
    for (const svc of started) await stopService(svc, { graceMs: 5_000 }).catch(() => undefined);
    await rm(lab.root, { recursive: true, force: true });
  }, 60_000);
  return lab;
}

/** Starting `svc` must fail with a BdbServiceError (waiting up to 60 s for start-up): that error. */
export async function startRefused(svc: BdbService): Promise<BdbServiceError> {
  const err = await startService(svc, { startupTimeoutMs: 60_000 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BdbServiceError);
  return err as BdbServiceError;
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A TapeTrack-like standalone server: the seed's DB_CONFIG (blocks commented) and a database with records. */
export async function standaloneServer(root: string, records: Record<string, string>): Promise<string> {
  const envDir = path.join(root, 'db');
  await mkdir(envDir, { recursive: true });
  await mkdir(path.join(root, 'dblogs'), { recursive: true });
  await writeFile(path.join(envDir, 'DB_CONFIG'), await readFile(SEED_DB_CONFIG, 'utf8'));
  const recover = await runTool('recover', ['-e', '-h', envDir]);
  if (recover.code !== 0) throw new Error(`set-up: ${recover.stderr}`);
  await putRecords(envDir, 'tapes.db', records);
  return envDir;
}

export async function putRecords(envDir: string, db: string, records: Record<string, string>): Promise<void> {
  const input =
    Object.entries(records)
      .flatMap(([k, v]) => [k, v])
      .join('\n') + '\n';
  const load = await runTool('load', ['-T', '-t', 'btree', '-h', envDir, db], { input });
  if (load.code !== 0) throw new Error(`db5.3_load into ${envDir}/${db}: ${load.stderr}`);
}

/** The key/value pairs of a database, as db5.3_dump -p prints them. */
export async function records(envDir: string, db: string): Promise<Record<string, string>> {
  const dump = await runTool('dump', ['-p', '-h', envDir, db]);
  if (dump.code !== 0) throw new Error(`db5.3_dump ${envDir}/${db}: ${dump.stderr}`);
  const body = dump.output.split('HEADER=END\n')[1]?.split('DATA=END')[0] ?? '';
  const lines = body
    .split('\n')
    .filter((l) => l.startsWith(' '))
    .map((l) => l.slice(1));
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) out[lines[i]!] = lines[i + 1]!;
  return out;
}
